#!/usr/bin/env bash
# Fails (exit 1, one line per finding) when a private key or a secret is in the repository:
# files tracked by git, and new files git would pick up (untracked, not ignored).
#   scripts/check-secrets.sh [repository-dir]     (run by `make test` before jest)
#
# Looks for
#   - PEM private keys (any "BEGIN … PRIVATE KEY" block), anywhere
#   - key and keystore files by name: *.key, *.p12, *.pfx, *.jks, id_rsa, id_ed25519, … and .pem
#     files holding a private key
#   - .env files other than .env.example, and in .env.example a *SECRET*/*PASSWORD*/*TOKEN*/*KEY*
#     value that is not empty or a "change-me…" placeholder
#   - in router-config/*.json: a "secret", "ticket" or "password" that is not a ${VAR} placeholder
#   - cloud and API tokens: AWS access key ids (AKIA…), aws_secret_access_key = …, GitHub (ghp_…,
#     github_pat_…), Slack (xox?-…), Google API keys (AIza…)
# Tests that need keys make them in a temporary directory (tls/make-certs.sh with SISOCK_TLS_DIR).
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "check-secrets: $(pwd) is not a git work tree" >&2; exit 2; }

found=0
report() { echo "check-secrets: $1" >&2; found=1; }

mapfile -d '' files < <(git ls-files -z --cached --others --exclude-standard)
existing=()
for f in "${files[@]}"; do [ -f "$f" ] && existing+=("$f"); done

# 1. File names.
for f in "${existing[@]}"; do
  base=${f##*/}
  case "$base" in
    .env.example) ;;
    .env|.env.*|*.env) report "$f: environment file with secrets must not be committed (only .env.example)";;
    *.key|*.p12|*.pfx|*.jks|*.keystore|id_rsa|id_dsa|id_ecdsa|id_ed25519|*.ppk) report "$f: key file must not be committed";;
  esac
done

if [ ${#existing[@]} -gt 0 ]; then
  # 2. Contents (text files only: grep -I).
  patterns=(
    '-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----'
    'AKIA[0-9A-Z]{16}'
    'aws_secret_access_key[[:space:]]*[=:][[:space:]]*[A-Za-z0-9/+]{40}'
    'ghp_[A-Za-z0-9]{36}'
    'github_pat_[A-Za-z0-9_]{40,}'
    'xox[abprs]-[A-Za-z0-9-]{10,}'
    'AIza[0-9A-Za-z_-]{35}'
  )
  for p in "${patterns[@]}"; do
    while IFS= read -r hit; do
      [ -n "$hit" ] && report "${hit%%:*}: matches /${p}/"
    done < <(printf '%s\0' "${existing[@]}" | xargs -0 grep -IlE -e "$p" -- 2>/dev/null || true)
  done
fi

# 3. Router configurations: secrets only as ${VAR}.
for f in "${existing[@]}"; do
  case "$f" in router-config/*.json) ;; *) continue;; esac
  while IFS= read -r line; do
    report "$f: inline secret (use \"\${SOME_ENV_VAR}\"): ${line}"
  done < <(grep -nE '"(secret|ticket|password)"[[:space:]]*:[[:space:]]*"' "$f" | grep -vE '"(secret|ticket|password)"[[:space:]]*:[[:space:]]*"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?"' || true)
done

# 4. .env.example: placeholders only.
if [ -f .env.example ]; then
  while IFS= read -r line; do
    report ".env.example: a real-looking value (leave it empty or write change-me…): ${line%%=*}"
  done < <(grep -nE '^[[:space:]]*(export[[:space:]]+)?[A-Za-z_]*(SECRET|PASSWORD|TOKEN|_KEY)[A-Za-z_]*=' .env.example \
             | grep -vE '=[[:space:]]*("?)(change-me[A-Za-z0-9_.-]*)?("?)[[:space:]]*(#.*)?$' || true)
fi

if [ "$found" -ne 0 ]; then
  echo "check-secrets: FAILED: remove the secrets above from the repository (and rotate them)" >&2
  exit 1
fi
echo "check-secrets: ok (${#existing[@]} files)"
