#!/bin/sh
# The promotion needs three units of the same item.
. "$(dirname "$0")/lib/assert.sh"

expect_eq "2 USB cables" 13.98 "$(total_field subtotal "$(cart "E400 2")")"
# Two 3-for-2 items do not make a set of three together.
expect_eq "1 cable and 2 soaps" 10.97 "$(total_field subtotal "$(cart "E400 1" "H300 2")")"
