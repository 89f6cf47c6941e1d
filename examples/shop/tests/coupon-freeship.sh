#!/bin/sh
# FREESHIP waives shipping on a small cart.
. "$(dirname "$0")/lib/assert.sh"

c=$(cart "A100 1")
expect_eq shipping 0.00 "$(total_field shipping "$c" --coupon FREESHIP)"
expect_eq total 2.66 "$(total_field total "$c" --coupon FREESHIP)"
