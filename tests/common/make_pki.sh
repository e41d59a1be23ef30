#!/usr/bin/env bash
# Builds a throw-away test PKI with the openssl CLI (a third party, so our own bugs are
# not mirrored in our fixtures). Usage: make_pki.sh OUTDIR
#
# Layout in OUTDIR (PEM unless noted; every .p12 has passphrase "test-pass"):
#   root.crt/.key            "Test Root CA" (trust anchor)
#   inter.crt/.key           "Test Issuing CA", signed by root; issues every leaf
#   other-root.crt/.key      an unrelated root (for "untrusted chain" cases)
#   <name>.crt/.key/.p12     leaves below; <name>.chain.pem = leaf + inter
#     alice   RSA-2048  alice@example.gov      sign + encrypt (digitalSignature, keyEncipherment)
#     bob     RSA-2048  bob@example.gov        sign + encrypt
#     carol   EC P-256  carol@example.gov      sign + keyAgreement
#     dave    EC P-384  dave@partner.example   sign + keyAgreement
#     erin    RSA-3072  erin@partner.example   sign + encrypt
#     kepala  RSA-2048  kepala@example.gov     role certificate (O=..., OU=Jabatan)
#     sistem  RSA-2048  noreply@example.gov    system certificate
#     expired RSA-2048  expired@example.gov    validity ended in the past
#     revoked RSA-2048  revoked@example.gov    listed in inter.crl (keyCompromise)
#     noemail RSA-2048  (no e-mail address)
#     signonly RSA-2048 signonly@example.gov   keyUsage digitalSignature only
#     mallory RSA-2048  mallory@example.gov    issued by other-root (untrusted)
#     edward  Ed25519   edward@example.gov     (OpenSSL 3.0 CMS cannot sign with it)
#   inter.crl / inter.crl.der   CRL from inter revoking "revoked" (openssl ca -gencrl)
#   inter-empty.crl             an earlier CRL from inter revoking nothing (lower number)
#   root.crl                    CRL from root revoking nothing
#   anchors.pem                 root.crt
set -euo pipefail
out=${1:?usage: make_pki.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)  # absolute: the openssl ca configuration names files by it
cd "$out"
export OPENSSL_CONF=/dev/null

days_past() { date -u -d "$1 days ago" +%Y%m%d%H%M%SZ; }

ca_conf() {  # ca_conf NAME -> NAME.cnf for `openssl ca`
  local n=$1
  mkdir -p "$n.db"
  : >"$n.db/index.txt"
  [ -f "$n.db/crlnumber" ] || echo 1000 >"$n.db/crlnumber"
  cat >"$n.cnf" <<CNF
[ ca ]
default_ca = this
[ this ]
dir = $out/$n.db
database = \$dir/index.txt
new_certs_dir = \$dir
certificate = $out/$n.crt
private_key = $out/$n.key
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
default_crl_days = 30
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
emailAddress = optional
organizationName = optional
organizationalUnitName = optional
countryName = optional
CNF
}

mkroot() {  # mkroot NAME CN
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" -days 3650 \
    -subj "/C=ID/O=Test PKI/CN=$2" -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
  ca_conf "$1"
  printf '%s\n' 01 >"$1.db/serial"
}

mkroot root "Test Root CA"
mkroot other-root "Other Root CA"

# Issuing CA signed by the root, recorded in the root's database.
openssl req -new -newkey rsa:2048 -nodes -keyout inter.key -out inter.csr \
  -subj "/C=ID/O=Test PKI/CN=Test Issuing CA" 2>/dev/null
cat >inter.ext <<EXT
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
openssl ca -batch -config root.cnf -in inter.csr -out inter.crt -days 3000 \
  -extfile inter.ext -notext 2>/dev/null
ca_conf inter
printf '%s\n' 1001 >inter.db/serial

newkey() {  # newkey TYPE FILE
  case $1 in
    rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" 2>/dev/null ;;
    rsa3072) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$2" 2>/dev/null ;;
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" 2>/dev/null ;;
    p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$2" 2>/dev/null ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$2" ;;
  esac
}

# leaf NAME KEYTYPE EMAIL KU CA [extra subject] [startdate enddate]
leaf() {
  local name=$1 kt=$2 email=$3 ku=$4 ca=$5 subj=${6:-} start=${7:-} end=${8:-}
  newkey "$kt" "$name.key"
  local s="/C=ID/O=Pemerintah Kota Contoh${subj}/CN=${name^}"
  [ -n "$email" ] && s="$s/emailAddress=$email"
  openssl req -new -key "$name.key" -out "$name.csr" -subj "$s" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,$ku"
    echo "extendedKeyUsage=emailProtection,clientAuth"
    echo "subjectKeyIdentifier=hash"
    echo "authorityKeyIdentifier=keyid"
    [ -n "$email" ] && echo "subjectAltName=email:$email"
  } >"$name.ext"
  local dates=(-days 730)
  [ -n "$start" ] && dates=(-startdate "$start" -enddate "$end")
  openssl ca -batch -config "$ca.cnf" -in "$name.csr" -out "$name.crt" "${dates[@]}" \
    -extfile "$name.ext" -notext 2>/dev/null
  cat "$name.crt" "$ca.crt" >"$name.chain.pem"
  if [ "$kt" != ed25519 ]; then
    openssl pkcs12 -export -inkey "$name.key" -in "$name.crt" -certfile "$ca.crt" \
      -name "$name" -out "$name.p12" -passout pass:test-pass
  fi
  rm -f "$name.csr" "$name.ext"
}

RSA_KU="digitalSignature,nonRepudiation,keyEncipherment"
EC_KU="digitalSignature,nonRepudiation,keyAgreement"
leaf alice rsa2048 alice@example.gov "$RSA_KU" inter
leaf bob rsa2048 bob@example.gov "$RSA_KU" inter
leaf carol p256 carol@example.gov "$EC_KU" inter
leaf dave p384 dave@partner.example "$EC_KU" inter
leaf erin rsa3072 erin@partner.example "$RSA_KU" inter
leaf kepala rsa2048 kepala@example.gov "$RSA_KU" inter "/OU=Jabatan"
leaf sistem rsa2048 noreply@example.gov "$RSA_KU" inter "/OU=Sistem Elektronik"
leaf expired rsa2048 expired@example.gov "$RSA_KU" inter "" "$(days_past 800)" "$(days_past 70)"
leaf revoked rsa2048 revoked@example.gov "$RSA_KU" inter
leaf noemail rsa2048 "" "$RSA_KU" inter
leaf signonly rsa2048 signonly@example.gov "digitalSignature,nonRepudiation" inter
leaf mallory rsa2048 mallory@example.gov "$RSA_KU" other-root
leaf edward ed25519 edward@example.gov "digitalSignature,nonRepudiation" inter

# CRLs: first an empty one (lower CRL number), then one revoking "revoked".
openssl ca -config inter.cnf -gencrl -out inter-empty.crl 2>/dev/null
openssl ca -config inter.cnf -revoke revoked.crt -crl_reason keyCompromise 2>/dev/null
openssl ca -config inter.cnf -gencrl -out inter.crl 2>/dev/null
openssl crl -in inter.crl -outform DER -out inter.crl.der
openssl ca -config root.cnf -gencrl -out root.crl 2>/dev/null
cp root.crt anchors.pem
rm -f inter.csr inter.ext
echo "pki ready in $out"
