#!/bin/sh
# Every third unit of a 3-for-2 item is free.
. "$(dirname "$0")/lib/assert.sh"

expect_eq "3 bananas" 3.78 "$(total_field subtotal "$(cart "A101 3")")"
expect_eq "7 bananas (2 free)" 9.45 "$(total_field subtotal "$(cart "A101 7")")"
expect_eq "7 bananas are still 7 items" 7 "$(total_field items "$(cart "A101 7")")"
