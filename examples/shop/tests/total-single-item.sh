#!/bin/sh
# One item: net price, 7% tax on food, shipping under 30.00.
. "$(dirname "$0")/lib/assert.sh"

c=$(cart "A100 1")
expect_eq subtotal 2.49 "$(total_field subtotal "$c")"
expect_eq tax 0.17 "$(total_field tax "$c")"
expect_eq shipping 4.95 "$(total_field shipping "$c")"
expect_eq total 7.61 "$(total_field total "$c")"
