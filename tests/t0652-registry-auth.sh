#!/bin/sh
# Registry authentication: htpasswd Basic auth, and Bearer tokens from a
# token server the registry trusts; credentials from docker's config.json.
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/registry-lib.sh"
have umoci || test_skip_all 'umoci is not installed'
test_need openssl

# A bcrypt htpasswd line: htpasswd -B when apache2-utils is there, else
# Python's crypt module.
if have htpasswd; then
  htpasswd -Bbn alice s3cret >"$TRASH/htpasswd"
else
  python3 -W ignore -c 'import crypt; print("alice:" + crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
    >"$TRASH/htpasswd" 2>/dev/null || test_skip_all 'no way to make a bcrypt htpasswd'
fi

# docker config.json with credentials for a registry: docker_config DIR REG USER PASS
docker_config() {
  mkdir -p "$1" && printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$2" "$(printf %s "$3:$4" | base64)" >"$1/config.json"
}

start_registry basic "  htpasswd:
    realm: test
    path: $TRASH/htpasswd"
BASIC=$REG

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TRASH/key.pem" -out "$TRASH/cert.pem" -days 2 \
  -subj /CN=token-issuer >/dev/null 2>&1 || test_skip_all 'openssl cannot make a certificate'
TPORT=$(free_port)
python3 "$HT_SRC/tests/helpers/ht-token-server.py" $TPORT "$TRASH/key.pem" "$TRASH/cert.pem" \
  test-issuer test-registry bob:hunter2 >"$TRASH/token.log" 2>"$TRASH/token.err" &
test_cleanup_server $!
wait_for_port $TPORT
start_registry token "  token:
    realm: http://127.0.0.1:$TPORT/token
    service: test-registry
    issuer: test-issuer
    rootcertbundle: $TRASH/cert.pem"
TOKEN=$REG

test_expect_success 'set up an image' '
  make_layout lay t 1 1 && ht-pull -S store oci:lay:t >img.json
'

test_expect_success 'Basic: no credentials fails with 77' '
  test_must_fail 77 ht-push -S store oci:lay:t $BASIC/app:1 >r.json 2>err &&
  test_jq ".ok == false and .error.code == \"unauthorized\"" r.json &&
  test_grep "wants a user name and password" err
'

test_expect_success 'Basic: wrong password fails with 77' '
  docker_config bad $BASIC alice wrong &&
  DOCKER_CONFIG=$PWD/bad test_must_fail 77 ht-push -S store oci:lay:t $BASIC/app:1 >r.json 2>err &&
  test_grep "refused the credentials of user .alice." err
'

test_expect_success 'Basic: push, push again with zero bytes, pull' '
  docker_config good $BASIC alice s3cret &&
  DOCKER_CONFIG=$PWD/good ht-push -S store oci:lay:t $BASIC/app:1 >p1.json &&
  test_jq ".ok and .blobs.sent == 3" p1.json &&
  DOCKER_CONFIG=$PWD/good ht-push -S store oci:lay:t $BASIC/app:1 >p2.json &&
  test_jq ".ok and .blobs.bytes_sent == 0" p2.json &&
  DOCKER_CONFIG=$PWD/good ht-pull -S s2 $BASIC/app:1 >i2.json &&
  test_jq ".ok and .digest == $(jq .digest img.json)" i2.json
'

test_expect_success 'Basic: username and password members, REGISTRY_AUTH_FILE' '
  printf "{\"auths\":{\"http://%s\":{\"username\":\"alice\",\"password\":\"s3cret\"}}}" $BASIC >auth.json &&
  REGISTRY_AUTH_FILE=$PWD/auth.json ht-pull -S s3 $BASIC/app:1 >i3.json &&
  test_jq .ok i3.json
'

test_expect_success 'Bearer: no credentials, the token server refuses: 77' '
  test_must_fail 77 ht-push -S store oci:lay:t $TOKEN/app:1 >r.json 2>err &&
  test_grep "token server" err
'

test_expect_success 'Bearer: push, push again with zero bytes, pull, one token per scope' '
  docker_config tok $TOKEN bob hunter2 &&
  : >"$TRASH/token.log" &&
  DOCKER_CONFIG=$PWD/tok ht-push -S store oci:lay:t $TOKEN/app:1 >p1.json &&
  test_jq ".ok and .blobs.sent == 3" p1.json &&
  test $(grep -c "^token repository:app:pull,push user=bob" "$TRASH/token.log") -eq 1 &&
  DOCKER_CONFIG=$PWD/tok ht-push -S store oci:lay:t $TOKEN/app:1 >p2.json &&
  test_jq ".ok and .blobs.bytes_sent == 0 and .blobs.existing == 3" p2.json &&
  DOCKER_CONFIG=$PWD/tok ht-pull -S s4 $TOKEN/app:1 >i4.json &&
  test_jq ".ok and .digest == $(jq .digest img.json)" i4.json &&
  grep -q "^token repository:app:pull user=bob" "$TRASH/token.log"
'

test_expect_success 'Bearer: cross-repository mount asks for both scopes' '
  DOCKER_CONFIG=$PWD/tok ht-push -S store --mount-from app oci:lay:t $TOKEN/copy:1 >p3.json &&
  test_jq ".ok and .blobs.mounted == 3 and .blobs.bytes_sent == 0" p3.json &&
  grep -q "^token repository:copy:pull,push repository:app:pull user=bob" "$TRASH/token.log"
'

test_expect_success 'Bearer: skopeo reads what we pushed' '
  have skopeo || exit 0
  d=$(jq -r .digest img.json) &&
  skopeo inspect --tls-verify=false --creds bob:hunter2 docker://$TOKEN/app@$d >insp.json &&
  test_jq ".Digest == \"$d\"" insp.json
'
test_done
