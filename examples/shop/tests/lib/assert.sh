# tests/lib/assert.sh: sourced by every test (tests/*.sh, run as
# "sh tests/NAME.sh" from the project root or anywhere else).
#
# Sets ROOT (the project), SHOP (the program) and TMP (a scratch directory,
# removed at the end). Tests write only under TMP and $HT_OUTPUT_DIR: the
# project directory may be read-only (it is in hypertest's sandbox).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHOP=$ROOT/bin/shop
TMP=$(mktemp -d "${TMPDIR:-/tmp}/shop-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
TEST=$(basename "$0" .sh)

# fail MESSAGE: the test fails with one line saying why.
fail() {
	echo "FAIL $TEST: $*" >&2
	exit 1
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

# cart LINES...: writes a cart file, one argument a line, prints its path.
cart() {
	_f=$(mktemp "$TMP/cart.XXXXXX")
	printf '%s\n' "$@" >"$_f"
	echo "$_f"
}

# total_field KEY CART [OPTIONS...]: one value of "shop total".
total_field() {
	_k=$1 _c=$2; shift 2
	_out=$("$SHOP" total "$@" "$_c") || fail "shop total exited $?"
	printf '%s\n' "$_out" | awk -v k="$_k" '$1 == k { print $2 }'
}

# expect_error CODE PATTERN CMD...: CMD fails with CODE and its stderr
# matches PATTERN (an extended regular expression).
expect_error() {
	_code=$1 _pat=$2; shift 2
	_rc=0
	"$@" >"$TMP/out" 2>"$TMP/err" || _rc=$?
	[ "$_rc" -eq "$_code" ] || fail "'$*' exited $_rc, expected $_code (stderr: $(cat "$TMP/err"))"
	grep -Eq "$_pat" "$TMP/err" || fail "stderr of '$*' does not match '$_pat': $(cat "$TMP/err")"
	[ ! -s "$TMP/out" ] || fail "'$*' printed on stdout although it failed: $(head -n 3 "$TMP/out")"
}

# The orders generator: gen_orders N SEED [SKUS] prints N lines
# "ORDER SKU QTY" (Park-Miller, the same on every awk).
gen_orders() {
	awk -v n="$1" -v seed="$2" -v skus="${3:-A100 A101 A102 A103 B200 B201 B202 H300 H301 H302 E400 E401 E402 E403}" '
	function rnd() { seed = (seed * 16807) % 2147483647; return seed }
	BEGIN {
		k = split(skus, s, " ")
		for (i = 1; i <= n; i++)
			print 10000 + i, s[rnd() % k + 1], rnd() % 5 + 1
	}'
}
