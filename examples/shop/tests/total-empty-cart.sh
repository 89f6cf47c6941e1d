#!/bin/sh
# A cart with no items costs nothing, not even shipping.
. "$(dirname "$0")/lib/assert.sh"

c=$(cart "# nothing yet" "")
expect_eq items 0 "$(total_field items "$c")"
expect_eq subtotal 0.00 "$(total_field subtotal "$c")"
expect_eq shipping 0.00 "$(total_field shipping "$c")"
expect_eq total 0.00 "$(total_field total "$c")"
