#!/usr/bin/env bash
# Gather the large font corpus pinned in scripts/corpus.lock into a git-ignored cache.
#
#   scripts/fetch_fonts.sh [DEST]                 fetch exactly what the lock pins (default DEST:
#                                                 $FONTGLYPHS_CORPUS, else .cache/corpus in the repo)
#   scripts/fetch_fonts.sh --update-lock [DEST]   re-pin: Debian fonts-* packages from apt-cache (minus
#                                                 DEB_EXCLUDE), the npm names already in the lock at their
#                                                 latest version; then fetch
#
# Why a lock: the corpus must be the same set of files on every machine, so package names AND versions
# are pinned and only the ordinary clients are used (apt-get download, npm pack). Re-running skips every
# package whose pinned version is already unpacked, so an interrupted run resumes where it stopped.
#
# Layout of DEST:
#   debian/<package>/...            the package's font files (and its copyright file), paths as in the .deb
#   npm/<scope>/<name>/files/*      only the latin subset (all weights, styles, axes; one file per face) of a @fontsource package,
#                                   plus its LICENSE, package.json and metadata.json
#   <dir>/.version                  the pinned version unpacked there (the "done" marker)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCK=${FONTGLYPHS_CORPUS_LOCK:-$ROOT/scripts/corpus.lock}  # overridable so build_bundled_fonts.sh can fetch a subset
FONT_GLOBS=('*.ttf' '*.otf' '*.ttc' '*.otc' '*.woff' '*.woff2' '*.pfb' '*.pfa')
# Debian fonts-* packages left out of the lock: CJK and emoji giants (slow, no new Latin shapes),
# icon/symbol fonts (no letters), bitmap-only and metapackages or transitional packages (no font files).
DEB_EXCLUDE='cjk|emoji|cns11643|arphic|babelstone-han|hanazono|ipafont|ipaex|ipamj|takao|vlgothic|wqy|unfonts'
DEB_EXCLUDE+='|baekmuk|nanum|lxgw|klee|kiloji|morisawa|yozvox|umeplus|migmix|horai|kouzan|aoyagi|cwtex|seto'
DEB_EXCLUDE+='|konatu|komatuna|misaki|^fonts-mona|monapo|motoya|mmcedar|oradano|rampart|reggae|rocknroll'
DEB_EXCLUDE+='|^fonts-stick$|^fonts-train$|yusei|dotgothic|woowa|d2coding|kanjistroke|sawarabi|lexi-|dejima'
DEB_EXCLUDE+='|smiley-sans|ricty|unifont|awesome|icons|iconfont|webfont|glyphicons|entypo|powerline|symbola'
DEB_EXCLUDE+='|opensymbol|circos|tibetan|monlam|^fonts-mplus$|^fonts-noto$|-hinted$|^fonts-recommended$|-docs?$'
DEB_EXCLUDE+='|-otb$|creep2|libfinal|mathjax-extras|meera-taml'
DEB_EXCLUDE+='|^fonts-(dejavu|roboto|thai-tlwg|tlwg-[a-z]+|noto-unhinted|indic|smc|samyak|deva|beng|gujr|guru'
DEB_EXCLUDE+='|knda|mlym|orya|taml|telu|sipa-arundina|hack-ttf|hack-otf|hack-web|thai-tlwg-otf|thai-tlwg-ttf'
DEB_EXCLUDE+='|yozvox-yozfont)$'
BATCH=40

usage() {  # help on stdout when asked for, on stderr after a usage error
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&"$(( ${1:-0} ? 2 : 1 ))"
  exit "${1:-0}"
}
log() { printf '%s\n' "$*" >&2; }

update_lock=0
case "${1:-}" in
  -h|--help) usage ;;
  --update-lock) update_lock=1; shift ;;
  -*) log "unknown option: $1"; usage 2 ;;
esac
[[ $# -le 1 ]] || usage 2
DEST=${1:-${FONTGLYPHS_CORPUS:-$ROOT/.cache/corpus}}
DL="$DEST/.downloads"
mkdir -p "$DEST/debian" "$DEST/npm" "$DL"
DEST=$(cd "$DEST" && pwd)
DL="$DEST/.downloads"
rm -rf "$DL"/unpack.*  # left by an interrupted run

apt_refresh() {
  # apt-get download needs package lists; a fresh machine has none (or stale ones).
  if [[ $(id -u) -eq 0 ]]; then
    log "refreshing apt package lists (apt-get update)"
    apt-get update -qq >&2
  else
    log "apt lists look stale; run 'apt-get update' as root and retry"
    return 1
  fi
}

# ---- lock --------------------------------------------------------------------------------------------

lock_entries() {  # kind -> "name<TAB>version" lines of that kind
  awk -F'\t' -v k="$1" '$1 == k { print $2 "\t" $3 }' "$LOCK"
}

deb_candidates() {  # "name<TAB>version" of every fonts-* package apt offers, minus DEB_EXCLUDE
  local names
  names=$(apt-cache search --names-only '^fonts-' | awk '{print $1}' | grep -Ev "$DEB_EXCLUDE" | sort -u)
  if [[ -z $names ]]; then
    apt_refresh
    names=$(apt-cache search --names-only '^fonts-' | awk '{print $1}' | grep -Ev "$DEB_EXCLUDE" | sort -u)
  fi
  # shellcheck disable=SC2086
  apt-cache show --no-all-versions $names \
    | awk '/^Package:/ { p = $2 } /^Version:/ { print p "\t" $2 }' | sort -u
}

npm_pack() {  # pack name[@version] specs into $DL; print "name<TAB>version<TAB>tarball" per package
  # shellcheck disable=SC2016  # the ${...} below are JavaScript template literals
  (cd "$DL" && npm pack --json --loglevel=error "$@") \
    | node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
        const packed = JSON.parse(s || "[]");  // on failure npm prints an error object instead
        if (!Array.isArray(packed)) process.exit(1);
        for (const p of packed) console.log(`${p.name}\t${p.version}\t${p.filename}`); })'
}

write_lock() {
  local tmp="$LOCK.tmp" names=() name
  while IFS=$'\t' read -r name _; do names+=("$name"); done < <(lock_entries npm)
  {
    printf '# fontglyphs large-corpus lock: kind<TAB>package<TAB>version. Regenerate with\n'
    printf '# scripts/fetch_fonts.sh --update-lock (it keeps the npm names listed here, at their latest version).\n'
    deb_candidates | sed 's/^/deb\t/'
    local i
    for ((i = 0; i < ${#names[@]}; i += BATCH)); do
      log "resolving npm ${i}/${#names[@]}"
      npm_pack "${names[@]:i:BATCH}" | cut -f1,2 | sed 's/^/npm\t/'
    done | sort
  } > "$tmp"
  mv "$tmp" "$LOCK"
  log "wrote $LOCK: $(grep -c '^deb' "$LOCK") Debian packages, $(grep -c '^npm' "$LOCK") npm packages"
}

# ---- fetch -------------------------------------------------------------------------------------------

is_done() { [[ -f $1/.version && $(<"$1/.version") == "$2" ]]; }

unpack_deb() {  # deb-file package version: keep only font files and the copyright file
  local deb=$1 ver=$3 out="$DEST/debian/$2" tmp
  tmp=$(mktemp -d "$DL/unpack.XXXXXX")
  # tar exits 2 when a pattern matches nothing (e.g. no copyright file): the patterns are wishes, not needs
  dpkg-deb --fsys-tarfile "$deb" \
    | tar -x -C "$tmp" --wildcards --ignore-case "${FONT_GLOBS[@]}" '*/copyright' 2>/dev/null || true
  find "$tmp" -type l -delete  # links point into other packages or at files kept anyway
  rm -rf "$out"
  mv "$tmp" "$out"
  printf '%s' "$ver" > "$out/.version"
  rm -f "$deb"
}

deb_file() { compgen -G "$DL/${1}_*.deb" | head -n 1 || true; }  # name_version_arch.deb

apt_download() { (cd "$DL" && apt-get download -qq -o APT::Sandbox::User=root "$@" >&2); }

fetch_debs() {
  local todo=() name ver
  while IFS=$'\t' read -r name ver; do
    is_done "$DEST/debian/$name" "$ver" || todo+=("$name=$ver")
  done < <(lock_entries deb)
  local total=${#todo[@]} i
  log "Debian: ${total} package(s) to fetch"
  for ((i = 0; i < total; i += BATCH)); do
    local batch=("${todo[@]:i:BATCH}")
    log "[deb $((i + 1))-$((i + ${#batch[@]}))/$total] apt-get download"
    if ! apt_download "${batch[@]}"; then
      apt_refresh
      apt_download "${batch[@]}" || true  # one unavailable version must not sink the rest of the batch
    fi
    local spec
    for spec in "${batch[@]}"; do
      name=${spec%%=*}; ver=${spec#*=}
      [[ -n $(deb_file "$name") ]] || apt_download "$spec" || { log "  could not download $spec"; continue; }
      unpack_deb "$(deb_file "$name")" "$name" "$ver"
    done
  done
}

unpack_npm() {  # tarball name version: keep the latin subset and the licence/metadata files
  local tgz=$1 name=$2 ver=$3 out="$DEST/npm/${2#@}" tmp
  tmp=$(mktemp -d "$DL/unpack.XXXXXX")
  tar -xzf "$tgz" -C "$tmp" --wildcards --exclude='package/files/*-latin-ext-*' \
    'package/files/*-latin-*' package/LICENSE package/package.json package/metadata.json 2>/dev/null || true
  # @fontsource ships each face twice (WOFF and WOFF2, same outlines): keep one copy, the WOFF, which
  # decodes ~10x faster; -variable packages ship WOFF2 only and keep it.
  local woff2
  for woff2 in "$tmp"/package/files/*.woff2; do
    [[ -e ${woff2%2} ]] && rm -f "$woff2"
  done
  rm -rf "$out"
  mkdir -p "$(dirname "$out")"
  mv "$tmp/package" "$out"
  rmdir "$tmp"
  printf '%s' "$ver" > "$out/.version"
  rm -f "$tgz"
}

tarball_name() { local n=${1#@}; printf '%s-%s.tgz' "${n//\//-}" "$2"; }  # npm pack's file name

fetch_npm() {
  local todo=() name ver tgz
  while IFS=$'\t' read -r name ver; do
    is_done "$DEST/npm/${name#@}" "$ver" && continue
    tgz=$(tarball_name "$name" "$ver")
    if [[ -f $DL/$tgz ]]; then  # already packed by --update-lock
      unpack_npm "$DL/$tgz" "$name" "$ver"
    else
      todo+=("$name@$ver")
    fi
  done < <(lock_entries npm)
  local total=${#todo[@]} i
  log "npm: ${total} package(s) to fetch"
  for ((i = 0; i < total; i += BATCH)); do
    log "[npm $((i + 1))-$((i + BATCH < total ? i + BATCH : total))/$total] npm pack"
    while IFS=$'\t' read -r name ver tgz; do
      unpack_npm "$DL/$tgz" "$name" "$ver"
    done < <(npm_pack "${todo[@]:i:BATCH}" || log "  npm pack failed for part of this batch")
  done
}

missing() {  # lock entries not unpacked at their pinned version
  local kind name ver dir
  while IFS=$'\t' read -r kind name ver; do
    case $kind in deb) dir="$DEST/debian/$name" ;; npm) dir="$DEST/npm/${name#@}" ;; *) continue ;; esac
    is_done "$dir" "$ver" || printf '%s %s %s\n' "$kind" "$name" "$ver"
  done < "$LOCK"
}

count_fonts() {
  local args=() g
  for g in "${FONT_GLOBS[@]}"; do args+=(-o -iname "$g"); done
  find "$DEST/debian" "$DEST/npm" -type f \( "${args[@]:1}" \) | wc -l
}

start=$SECONDS
if ((update_lock)); then write_lock; fi
[[ -s $LOCK ]] || { log "missing $LOCK (run with --update-lock)"; exit 1; }
fetch_debs
fetch_npm
rmdir "$DL" 2>/dev/null || true
log "done in $((SECONDS - start)) s"
printf 'corpus: %s font files, %s in %s\n' "$(count_fonts)" "$(du -sh "$DEST" | cut -f1)" "$DEST"
gaps=$(missing)
if [[ -n $gaps ]]; then
  log "not fetched (re-run to retry):"
  log "$gaps"
  exit 1
fi
