#!/bin/sh
# Electronics are taxed at the standard rate, 19%.
. "$(dirname "$0")/lib/assert.sh"

c=$(cart "E402 1")
expect_eq "tax on a 29.95 power bank" 5.69 "$(total_field tax "$c")"
