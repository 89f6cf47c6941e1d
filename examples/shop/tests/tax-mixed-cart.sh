#!/bin/sh
# Each line is taxed at its own rate, then the taxes add up.
. "$(dirname "$0")/lib/assert.sh"

c=$(cart "B200 1" "H301 1")
expect_eq subtotal 13.48 "$(total_field subtotal "$c")"
# 9.99 at 7% is 0.70, 3.49 at 19% is 0.66.
expect_eq tax 1.36 "$(total_field tax "$c")"
