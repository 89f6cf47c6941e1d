#!/bin/sh
# A missing file or a bad command line is exit code 2 with a message.
. "$(dirname "$0")/lib/assert.sh"

expect_error 2 "^shop: error: cannot read '$TMP/no-such-cart'$" "$SHOP" total "$TMP/no-such-cart"
expect_error 2 "^usage: shop" "$SHOP" checkout "$(cart "A100 1")"
expect_error 2 "^usage: shop" "$SHOP" stock --coupon SAVE10 "$(cart "1 A100 1")"
