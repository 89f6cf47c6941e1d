#!/bin/sh
# Shipping is 4.95 under 30.00, and the threshold counts tax.
. "$(dirname "$0")/lib/assert.sh"

c=$(cart "B200 2")
expect_eq "shipping of 21.38" 4.95 "$(total_field shipping "$c")"
expect_eq "total of 21.38 + shipping" 26.33 "$(total_field total "$c")"
# 29.95 net, 35.64 with tax: free.
expect_eq "shipping of 35.64" 0.00 "$(total_field shipping "$(cart "E402 1")")"
