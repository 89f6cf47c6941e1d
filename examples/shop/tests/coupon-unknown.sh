#!/bin/sh
# An unknown coupon is an error, not silently ignored.
. "$(dirname "$0")/lib/assert.sh"

expect_error 2 "^shop: error: unknown coupon 'HALFOFF'$" "$SHOP" total --coupon HALFOFF "$(cart "A100 1")"
