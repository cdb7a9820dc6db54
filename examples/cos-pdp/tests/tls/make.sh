#!/bin/sh
# Regenerates the TLS fixtures of cos-pdp's tests (tests/tls.rs and
# tests/interop/test_pdp_tls_vs_opa.py). Run from anywhere:
#   sh examples/cos-pdp/tests/tls/make.sh
# Needs the openssl CLI (3.x). Keys are EC P-256; every certificate is valid
# from 2025-01-01 to 2125-01-01 (fixed dates, so they are valid on any
# machine whose clock is not behind 2025, and expire in a hundred years).
# Then check identities.json (tests/tls.rs prints what it expects).
# The private keys are test fixtures, public on purpose: never use them
# for anything else.
set -eu
cd "$(dirname "$0")"
start=20250101000000Z
end=21250101000000Z
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = fixtures
[fixtures]
dir = $work
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = any
unique_subject = no
email_in_dn = yes
[any]
commonName = optional
CNF

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# $1 name, $2 subject, $3 signing CA name ("" for self-signed), $4 extensions
cert() {
  key "$1.key"
  openssl req -new -key "$1.key" -subj "$2" -multivalue-rdn -out "$work/$1.csr"
  printf '[ext]\n%b\n' "$4" >"$work/$1.ext"
  : >"$work/index.txt"
  openssl rand -hex 16 >"$work/serial"
  if [ -z "$3" ]; then
    signer="-selfsign -keyfile $1.key"
  else
    signer="-cert $3.pem -keyfile $3.key"
  fi
  # shellcheck disable=SC2086
  openssl ca -batch -config "$work/ca.cnf" $signer -preserveDN -notext \
    -startdate "$start" -enddate "$end" -extfile "$work/$1.ext" -extensions ext \
    -in "$work/$1.csr" -out "$1.pem" 2>/dev/null
}

ca_ext='basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash'
client_ext='basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid'

# The CA both servers trust for client certificates; it signed the server's
# certificate too.
cert ca "/O=cos tests/CN=cos test CA" "" "$ca_ext"
# The server: localhost and 127.0.0.1.
cert server "/O=cos tests/CN=localhost" ca \
  'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nauthorityKeyIdentifier=keyid'
# A client the CA signed: O, OU and CN, so the identity's reversed order shows.
cert client "/O=Acme/OU=payments/CN=client" ca "$client_ext"
# A client whose subject exercises Go's grouping and escaping: a
# multi-valued RDN of two OUs, a comma, a plus, a semicolon and a leading
# '#' in values, and an attribute Go leaves out (emailAddress).
cert tricky '/C=DE/O=Acme\, Inc./OU=a+OU=b\+x/CN=\#svc;1/emailAddress=ops@example.com' ca "$client_ext"
# A CA nobody trusts, and a client it signed (the same subject as client.pem).
cert other-ca "/O=Elsewhere/CN=untrusted CA" "" "$ca_ext"
cert other-client "/O=Acme/OU=payments/CN=client" other-ca "$client_ext"
