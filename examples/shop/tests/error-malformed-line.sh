#!/bin/sh
# A line that is not "SKU QTY" is refused with its number.
. "$(dirname "$0")/lib/assert.sh"

expect_error 2 ":3: expected 'SKU QTY', got 'A100'" "$SHOP" total "$(cart "A100 1" "# ok" "A100")"
expect_error 2 ":1: expected 'SKU QTY', got 'A100 1 2'" "$SHOP" receipt "$(cart "A100 1 2")"
