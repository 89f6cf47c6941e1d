#!/bin/sh
# A token server's expires_in is untrusted: a huge one (9223372036854775807
# seconds) must not overflow the token's expiry (it did, into the past, so
# every request fetched a new token; UBSan aborted), nor a real or a
# negative one break the cache: one token per scope per run.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/registry-lib.sh"
have umoci || test_skip_all 'umoci is not installed'
test_need openssl

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TRASH/key.pem" -out "$TRASH/cert.pem" -days 2 \
  -subj /CN=token-issuer >/dev/null 2>&1 || test_skip_all 'openssl cannot make a certificate'

# token_server EXPIRES_IN: a token server answering that expires_in, and a
# registry that trusts it, in $TOKEN; its log in $TRASH/token-N.log.
n=0
token_server() {
  n=$((n + 1))
  TPORT=$(free_port)
  HT_TOKEN_EXPIRES_IN=$1 python3 "$HT_SRC/tests/helpers/ht-token-server.py" $TPORT "$TRASH/key.pem" \
    "$TRASH/cert.pem" test-issuer test-registry >"$TRASH/token-$n.log" 2>"$TRASH/token-$n.err" &
  test_cleanup_server $!
  wait_for_port $TPORT
  start_registry token$n "  token:
    realm: http://127.0.0.1:$TPORT/token
    service: test-registry
    issuer: test-issuer
    rootcertbundle: $TRASH/cert.pem"
  TOKEN=$REG
}

test_expect_success 'set up an image' '
  make_layout lay t 1 1 && ht-pull -S store oci:lay:t >img.json
'

for exp in 9223372036854775807 9223372036854776 1e300 -5; do
  token_server "$exp"
  test_expect_success "expires_in $exp: a push and a pull, one token per scope" '
    ht-push -S store oci:lay:t $TOKEN/app:1 >p.json &&
    test_jq ".ok and .blobs.sent == 3" p.json &&
    test "$(grep -c "^token repository:app:pull,push" "$TRASH/token-$n.log")" = 1 &&
    ht-pull -S "s-$n" $TOKEN/app:1 >i.json &&
    test_jq ".ok and .digest == $(jq .digest img.json)" i.json &&
    test "$(grep -c "^token repository:app:pull " "$TRASH/token-$n.log")" = 1
  '
done

test_done
