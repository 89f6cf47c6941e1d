#!/bin/sh
# Half a cent of tax rounds up, at both rates.
. "$(dirname "$0")/lib/assert.sh"

# 50 x 2.49 = 124.50; 7% of it is 8.715.
expect_eq "tax on 124.50 of food" 8.72 "$(total_field tax "$(cart "A100 50")")"
# 50 x 3.49 = 174.50; 19% of it is 33.155.
expect_eq "tax on 174.50 of household goods" 33.16 "$(total_field tax "$(cart "H301 50")")"
