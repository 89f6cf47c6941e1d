#!/bin/sh
# Quantities are positive whole numbers.
. "$(dirname "$0")/lib/assert.sh"

for q in 0 -1 1.5 two; do
	expect_error 2 ":1: quantity must be a positive whole number, got '$q'" "$SHOP" total "$(cart "A100 $q")"
done
