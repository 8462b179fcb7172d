#!/usr/bin/env bash
# Rebuild fonts/ (the bundled libre corpus) from the packages pinned in scripts/corpus.lock.
#
#   scripts/build_bundled_fonts.sh
#
# Fetches only the packages named below (through fetch_fonts.sh, into $FONTGLYPHS_CORPUS or .cache/corpus,
# so an existing large-corpus cache is reused), copies the chosen files to fonts/<source>/<file>, builds the
# two derived files (a TTC collection and a CFF2 conversion, see below), checks every face with fontTools
# (opens, has outlines, maps A-J), and writes fonts/LICENSES/<source>.txt and fonts/SOURCES.csv.
# Output is byte-identical from run to run: files are copied verbatim and derived fonts keep their
# head.modified timestamp.
#
# Selection format: "[category]" starts a section; each line is "source | licence | entry | entry ...".
#   source   a Debian package or an npm package from corpus.lock
#   licence  the licence of the chosen files: for Debian as read in the package's copyright file (checked by
#            hand: the "Files:" stanza that covers the fonts), for npm it must equal package.json's "license"
#   entry    Debian: a file name, or the tail of its path when the name alone is ambiguous
#            npm (@fontsource*): what follows "-latin-" in files/, e.g. 400-normal.woff2 (latin subset only)
#            "OUT.ttc = A + B + ..."  a TrueType Collection built from files A, B, ... of the same package
#            "OUT.otf = CFF2 A"       file A (CFF outlines) converted to CFF2 outlines
# Derived files exist because no small libre TTC or CFF2 font is packaged: TTCs in Debian are CJK giants
# and no packaged font uses CFF2. Both are format conversions of OFL fonts that declare no Reserved Font Name.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${FONTGLYPHS_CORPUS:-$ROOT/.cache/corpus}
OUT=$ROOT/fonts
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}

SELECTION=$(cat <<'EOF'
[serif]
fonts-dejavu-core | Bitstream-Vera | DejaVuSerif.ttf
fonts-dejavu-web | Bitstream-Vera | woff2/dejavu/DejaVuSerif-Italic.woff2 | woff/dejavu/DejaVuSerifCondensed-Bold.woff
fonts-liberation2 | OFL-1.1 | LiberationSerif-Regular.ttf
fonts-texgyre | GUST-Font-License | texgyretermes-regular.otf | texgyretermes-italic.otf | texgyrepagella-regular.otf | texgyrebonum-regular.otf | texgyreschola-bolditalic.otf
fonts-lmodern | GUST-Font-License | lmroman10-regular.otf | lmroman10-bolditalic.otf | lmromancaps10-regular.otf | lmromandunh10-regular.otf
fonts-ebgaramond | OFL-1.1 | EBGaramond12-Regular.otf | EBGaramond12-Bold.otf
fonts-linuxlibertine | OFL-1.1 OR GPL-2.0-or-later WITH Font-exception-2.0 | LinLibertine_R.otf
fonts-crosextra-caladea | OFL-1.1 | Caladea.ttc = Caladea-Regular.ttf + Caladea-Italic.ttf + Caladea-Bold.ttf + Caladea-BoldItalic.ttf
fonts-sil-gentium-basic | OFL-1.1 | GenBasR.ttf
fonts-vollkorn | OFL-1.1 | Vollkorn-Regular.ttf
fonts-quattrocento | OFL-1.1 | Quattrocento-Regular.otf
fonts-fanwood | MIT | Fanwood.otf | FanwoodText-Italic.otf
fonts-lindenhill | MIT | LindenHill.otf
fonts-prociono | public-domain | Prociono.otf
fonts-goudybookletter | public-domain | GoudyBookletter1911.otf
fonts-levien-museum | OFL-1.0 | MuseumSixty.otf
fonts-century-catalogue | OFL-1.0 | Century-Catalogue.ttf
fonts-gfs-didot | OFL-1.1 | GFSDidot.otf
fonts-gfs-artemisia | OFL-1.1 | GFSArtemisiaIt.otf
fonts-yrsa-rasa | OFL-1.1 | Yrsa-Regular.ttf | Yrsa-BoldItalic.ttf
fonts-stix | OFL-1.1 | STIXGeneral-Italic.otf | STIX-Bold.otf
fonts-cmu | OFL-1.1 | cmunrm.ttf
fonts-georgewilliams | OFL-1.1 OR BSD-3-Clause | CaslonItalic.ttf | Caslon-Black.ttf | Caliban.ttf
fonts-okolaks | OFL-1.1 | okolaksRegular.ttf
fonts-essays1743 | OFL-1.1 OR LGPL-2.1-only | Essays1743.ttf | Essays1743-Italic.ttf
fonts-campania | OFL-1.1 | Campania.woff
fonts-arapey | OFL-1.1 | Arapey-Regular.otf | Arapey-Black-Display.otf
fonts-averia-serif-gwf | OFL-1.1 | AveriaSerifGWF-Bold.ttf
@fontsource/lora | OFL-1.1 | 400-normal.woff2
@fontsource/merriweather | OFL-1.1 | 700-italic.woff2
@fontsource/libre-baskerville | OFL-1.1 | 400-italic.woff2
@fontsource/cormorant-garamond | OFL-1.1 | 300-italic.woff2
@fontsource/spectral | OFL-1.1 | 200-normal.woff2
@fontsource/pt-serif | OFL-1.1 | 400-normal.woff2
@fontsource/bitter | OFL-1.1 | 800-normal.woff
@fontsource/arvo | OFL-1.1 | 400-normal.woff2
@fontsource/zilla-slab | OFL-1.1 | 500-normal.woff2
@fontsource/prata | OFL-1.1 | 400-normal.woff2
@fontsource/domine | OFL-1.1 | 700-normal.woff2
@fontsource/playfair-display | OFL-1.1 | 900-normal.woff2
@fontsource/dm-serif-display | OFL-1.1 | 400-normal.woff2
@fontsource/instrument-serif | OFL-1.1 | 400-italic.woff2
@fontsource/im-fell-english | OFL-1.1 | 400-normal.woff2
@fontsource/libre-caslon-text | OFL-1.1 | 700-normal.woff2
@fontsource/ovo | OFL-1.1 | 400-normal.woff
@fontsource/bree-serif | OFL-1.1 | 400-normal.woff2
@fontsource/roboto-slab | Apache-2.0 | 300-normal.woff2
@fontsource-variable/cinzel | OFL-1.1 | wght-normal.woff2
@fontsource-variable/playfair-display | OFL-1.1 | wght-italic.woff2
@fontsource-variable/baskervville | OFL-1.1 | wght-normal.woff2

[sans]
fonts-dejavu-web | Bitstream-Vera | woff2/dejavu/DejaVuSans.woff2
fonts-liberation2 | OFL-1.1 | LiberationSans-Regular.ttf
fonts-noto-core | OFL-1.1 | NotoSans-Regular.ttf
fonts-texgyre | GUST-Font-License | texgyreheros-regular.otf | texgyreheroscn-bold.otf | texgyreadventor-regular.otf
fonts-lmodern | GUST-Font-License | lmsans10-regular.otf | lmsansquot8-oblique.otf
fonts-open-sans | Apache-2.0 | OpenSans-Regular.ttf
fonts-inter-variable | OFL-1.1 AND Apache-2.0 | Inter-roman.var.ttf
fonts-karla | OFL-1.1 | Karla[wght].ttf | Karla-Italic[wght].ttf
fonts-cabin | OFL-1.1 | Cabin-Regular.otf | Cabin-BoldItalic.otf
fonts-cantarell | OFL-1.1 | Cantarell-ExtraBold.otf | Cantarell-Regular-CFF2.otf = CFF2 Cantarell-Regular.otf
fonts-comfortaa | OFL-1.1 | Comfortaa-Light.ttf
fonts-dosis | OFL-1.1 | Dosis-Book.otf | Dosis-ExtraBold.otf
fonts-manrope | OFL-1.1 | Manrope-ExtraLight.ttf | Manrope-Bold.ttf
fonts-quicksand | OFL-1.1 | Quicksand-Regular.ttf
fonts-sora | OFL-1.1 | Sora-Thin.otf | Sora-ExtraBold.otf
fonts-jura | OFL-1.1 | Jura-Regular.otf
fonts-tuffy | public-domain | Tuffy.ttf | Tuffy_Bold_Italic.ttf
fonts-clear-sans | Apache-2.0 | ClearSans-Regular.ttf
fonts-oxygen | OFL-1.1 OR GPL-3.0-or-later WITH Font-exception-2.0 | Oxygen-Sans.ttf | Oxygen-Sans-Bold.ttf
fonts-averia-gwf | OFL-1.1 | AveriaGWF-Regular.ttf
fonts-averia-sans-gwf | OFL-1.1 | AveriaSansGWF-Italic.ttf
fonts-allerta | OFL-1.1 | allerta_medium.otf
fonts-league-spartan | OFL-1.1 | LeagueSpartan-Bold.otf | LeagueSpartan-ExtraLight.otf
fonts-yanone-kaffeesatz | OFL-1.1 | YanoneKaffeesatz-Regular.otf | YanoneKaffeesatz-ExtraLight.otf
fonts-opendin | OFL-1.1 | OSP-DIN.ttf
fonts-play | OFL-1.1 | Play-Regular.ttf
fonts-lemonada | OFL-1.1 | Lemonada-Regular.otf
fonts-roboto-fontface | Apache-2.0 | roboto/Roboto-Black.woff2 | roboto/Roboto-ThinItalic.woff
fonts-routed-gothic | OFL-1.1 | routed-gothic.ttf | routed-gothic-wide-italic.ttf
fonts-karmilla | OFL-1.1 | Karmilla-Regular.ttf | Karmilla-BoldItalic.ttf
fonts-eurofurence | OFL-1.1 | eurof55.ttf
fonts-go | BSD-3-Clause | Go-Regular.ttf | Go-Medium-Italic.ttf | Go-Smallcaps.ttf
fonts-junction | OFL-1.1 | Junction.otf
@fontsource/poppins | OFL-1.1 | 600-normal.woff2
@fontsource/montserrat | OFL-1.1 | 400-normal.woff2
@fontsource/raleway | OFL-1.1 | 100-normal.woff2
@fontsource/nunito | OFL-1.1 | 800-italic.woff2
@fontsource/rubik | OFL-1.1 | 400-normal.woff2
@fontsource/work-sans | OFL-1.1 | 300-normal.woff2
@fontsource/josefin-sans | OFL-1.1 | 400-normal.woff2
@fontsource/exo-2 | OFL-1.1 | 400-italic.woff2
@fontsource/space-grotesk | OFL-1.1 | 500-normal.woff2
@fontsource/ubuntu | UFL-1.0 | 400-normal.woff2 | 700-italic.woff
@fontsource/ubuntu-condensed | UFL-1.0 | 400-normal.woff2
@fontsource/archivo-black | OFL-1.1 | 400-normal.woff2
@fontsource/lato | OFL-1.1 | 300-italic.woff2
@fontsource/roboto | OFL-1.1 | 400-normal.woff2
@fontsource/pt-sans | OFL-1.1 | 700-normal.woff2
@fontsource/outfit | OFL-1.1 | 200-normal.woff2
@fontsource/barlow-condensed | OFL-1.1 | 500-normal.woff2
@fontsource/oswald | OFL-1.1 | 400-normal.woff2
@fontsource/anton | OFL-1.1 | 400-normal.woff2
@fontsource/syncopate | Apache-2.0 | 400-normal.woff2
@fontsource-variable/cabin | OFL-1.1 | standard-normal.woff2
@fontsource-variable/recursive | OFL-1.1 | casl-normal.woff2
@fontsource-variable/teko | OFL-1.1 | wght-normal.woff2

[mono]
fonts-dejavu-core | Bitstream-Vera | DejaVuSansMono.ttf
fonts-liberation2 | OFL-1.1 | LiberationMono-Regular.ttf
fonts-noto-mono | OFL-1.1 | NotoMono-Regular.ttf
fonts-croscore | OFL-1.1 | Cousine-Regular.ttf
fonts-go | BSD-3-Clause | Go-Mono.ttf
fonts-texgyre | GUST-Font-License | texgyrecursor-regular.otf
fonts-lmodern | GUST-Font-License | lmmono10-regular.otf
fonts-hack | MIT AND Bitstream-Vera | Hack-Regular.ttf | woff2/hack-bold.woff2 | woff/hack-italic.woff
fonts-jetbrains-mono | Apache-2.0 | JetBrainsMono-Regular.ttf
fonts-anonymous-pro | OFL-1.1 | Anonymous Pro.ttf | Anonymous Pro Minus BI.ttf
fonts-inconsolata | OFL-1.0 | Inconsolata.otf
fonts-mononoki | OFL-1.1 | mononoki-Regular.ttf | woff2/mononoki-Bold-Italic.woff2
fonts-fantasque-sans | OFL-1.1 | Normal/TTF/FantasqueSansMono-Regular.ttf | Normal/OTF/FantasqueSansMono-BoldItalic.otf
fonts-courier-prime | OFL-1.1 | Courier Prime.otf | Courier Prime Sans Bold Italic.otf
fonts-hermit | OFL-1.1 | Hermit-medium.otf | Hermit-bold.otf
fonts-league-mono | OFL-1.1 | LeagueMono-Regular.otf | LeagueMono-NarrowThin.otf | LeagueMono-ExtendedBold.otf
fonts-monoid | MIT OR OFL-1.1 | Monoid-Regular.ttf
fonts-3270 | BSD-3-Clause OR OFL-1.1 | 3270-Regular.ttf
fonts-agave | MIT | agave-b-autohinted.ttf
fonts-monofur | OFL-1.1 | monof55.ttf
fonts-firacode | OFL-1.1 | woff2/FiraCode-Bold.woff2
fonts-gnutypewriter | OFL-1.1 | GNUTypewriter.ttf
fonts-ocr-b | public-domain | OCRB.otf
@fontsource/ibm-plex-mono | OFL-1.1 | 400-normal.woff2
@fontsource/space-mono | OFL-1.1 | 700-normal.woff2
@fontsource/source-code-pro | OFL-1.1 | 400-normal.woff2
@fontsource/ubuntu-mono | UFL-1.0 | 400-normal.woff2
@fontsource/overpass-mono | OFL-1.1 | 400-normal.woff2
@fontsource/victor-mono | OFL-1.1 | 400-italic.woff2
@fontsource/pt-mono | OFL-1.1 | 400-normal.woff2
@fontsource/vt323 | OFL-1.1 | 400-normal.woff2
@fontsource-variable/inconsolata | OFL-1.1 | standard-normal.woff2
@fontsource-variable/roboto-mono | OFL-1.1 | wght-normal.woff2

[script]
fonts-texgyre | GUST-Font-License | texgyrechorus-mediumitalic.otf
fonts-dancingscript | OFL-1.1 | DancingScript-Regular.otf
fonts-kaushanscript | OFL-1.1 | KaushanScript-Regular.otf
fonts-lobster | OFL-1.1 | lobster.otf
fonts-lobstertwo | OFL-1.1 | LobsterTwo-Italic.otf
fonts-leckerli-one | OFL-1.1 | LeckerliOne-Regular.ttf
fonts-comic-neue | OFL-1.1 | ComicNeue-Regular.otf | woff2/ComicNeue-Bold.woff2 | woff/ComicNeue-LightItalic.woff
fonts-humor-sans | OFL-1.1 | Humor-Sans.ttf
fonts-klaudia-berenika | OFL-1.1 | Klaudia.ttf | Berenika-BoldOblique.ttf
fonts-kristi | OFL-1.1 | Kristi.ttf
fonts-tomsontalks | OFL-1.1 | TomsonTalks.ttf
fonts-ecolier-court | OFL-1.1 | Ecolier-court.ttf
fonts-ecolier-lignes-court | OFL-1.1 | Ecolier-lignes-court.ttf
fonts-breip | OFL-1.0 | Breip.ttf
@fontsource/pacifico | OFL-1.1 | 400-normal.woff2
@fontsource/caveat | OFL-1.1 | 700-normal.woff2
@fontsource/indie-flower | OFL-1.1 | 400-normal.woff2
@fontsource/shadows-into-light | OFL-1.1 | 400-normal.woff2
@fontsource/permanent-marker | Apache-2.0 | 400-normal.woff2
@fontsource/great-vibes | OFL-1.1 | 400-normal.woff2
@fontsource/satisfy | Apache-2.0 | 400-normal.woff2
@fontsource/amatic-sc | OFL-1.1 | 400-normal.woff2 | 700-normal.woff
@fontsource/sacramento | OFL-1.1 | 400-normal.woff
@fontsource/kalam | OFL-1.1 | 300-normal.woff2
@fontsource/patrick-hand | OFL-1.1 | 400-normal.woff2
@fontsource/gloria-hallelujah | OFL-1.1 | 400-normal.woff2
@fontsource/architects-daughter | OFL-1.1 | 400-normal.woff2
@fontsource/rock-salt | Apache-2.0 | 400-normal.woff2
@fontsource/covered-by-your-grace | OFL-1.1 | 400-normal.woff2
@fontsource/reenie-beanie | OFL-1.1 | 400-normal.woff2
@fontsource/marck-script | OFL-1.1 | 400-normal.woff2
@fontsource/courgette | OFL-1.1 | 400-normal.woff2
@fontsource/cookie | OFL-1.1 | 400-normal.woff
@fontsource/allura | OFL-1.1 | 400-normal.woff2
@fontsource/parisienne | OFL-1.1 | 400-normal.woff2
@fontsource/yellowtail | Apache-2.0 | 400-normal.woff2
@fontsource/tangerine | OFL-1.1 | 700-normal.woff2
@fontsource/alex-brush | OFL-1.1 | 400-normal.woff2
@fontsource/homemade-apple | Apache-2.0 | 400-normal.woff2
@fontsource/cedarville-cursive | OFL-1.1 | 400-normal.woff2
@fontsource/damion | OFL-1.1 | 400-normal.woff2
@fontsource/handlee | OFL-1.1 | 400-normal.woff2
@fontsource/gochi-hand | OFL-1.1 | 400-normal.woff2
@fontsource/schoolbell | Apache-2.0 | 400-normal.woff2
@fontsource/mansalva | OFL-1.1 | 400-normal.woff2
@fontsource/pinyon-script | OFL-1.1 | 400-normal.woff2
@fontsource/herr-von-muellerhoff | OFL-1.1 | 400-normal.woff2
@fontsource/rochester | Apache-2.0 | 400-normal.woff2
@fontsource/ms-madi | OFL-1.1 | 400-normal.woff2
@fontsource/whisper | OFL-1.1 | 400-normal.woff
@fontsource/corinthia | OFL-1.1 | 700-normal.woff2
@fontsource/oooh-baby | OFL-1.1 | 400-normal.woff2
@fontsource/annie-use-your-telescope | OFL-1.1 | 400-normal.woff2
@fontsource/delicious-handrawn | OFL-1.1 | 400-normal.woff2
@fontsource-variable/caveat | OFL-1.1 | wght-normal.woff2
@fontsource-variable/dancing-script | OFL-1.1 | wght-normal.woff2

[display]
fonts-gotico-antiqua | OFL-1.1 | Rusch-GoticoAntiqua100G.otf | Hamlet-Cicero12.otf | Ptolemy-GreatPrimer18.otf | Parix-Hybrid111R.otf
fonts-blankenburg | OFL-1.1 | Blankenburg_UNZ1A.ttf
fonts-gamaliel | OFL-1.1 | Gamaliel.ttf
fonts-cabinsketch | OFL-1.1 | CabinSketch-Regular.ttf
fonts-bebas-neue | OFL-1.1 | BebasNeue-Regular.otf | BebasNeue-Thin.otf
fonts-cherrybomb | OFL-1.1 | CherryBomb-Regular.otf
fonts-havana | OFL-1.1 | Havana-Regular.otf
fonts-radisnoir | OFL-1.1 | RadisSans-medium.otf
fonts-bajaderka | OFL-1.1 | Bajaderka-Regular.otf
fonts-apropal | OFL-1.1 | Apropal-Bold.otf
fonts-triod-postnaja | OFL-1.1 | TriodPostnaja.ttf
fonts-roadgeek | MIT | RG2014D.ttf | RG2014EM.ttf
fonts-millimetre | OFL-1.1 | millimetreA Extrablack 01.otf
fonts-le-murmure | OFL-1.1 | le-murmure.otf
fonts-compagnon | OFL-1.1 | Compagnon-Roman.otf | Compagnon-Bold.otf
fonts-solide-mirage | OFL-1.1 | SolideMirageEtroit.otf | SolideMirageMono.otf
fonts-national-park | OFL-1.1 | NationalPark-Heavy.otf | NationalPark-Outline.otf
fonts-allerta | OFL-1.1 | allerta_stencil.otf
fonts-ferrite-core | OFL-1.1 | FerriteCoreDX-Display.otf
fonts-dseg | OFL-1.1 | DSEG7Classic-Regular.ttf | DSEG14Modern-BoldItalic.ttf
fonts-sixtyfour | OFL-1.1 | C-64-Regular.ttf
fonts-amiga | OFL-1.1 | Amiga-Regular.ttf
fonts-joscelyn | OFL-1.1 | Joscelyn-Regular.otf
fonts-georgewilliams | OFL-1.1 OR BSD-3-Clause | Cupola.ttf
@fontsource/bangers | OFL-1.1 | 400-normal.woff2
@fontsource/press-start-2p | OFL-1.1 | 400-normal.woff2
@fontsource/monoton | OFL-1.1 | 400-normal.woff2
@fontsource/creepster | OFL-1.1 | 400-normal.woff2
@fontsource/fredoka-one | OFL-1.1 | 400-normal.woff2
@fontsource/abril-fatface | OFL-1.1 | 400-normal.woff2
@fontsource/cinzel-decorative | OFL-1.1 | 700-normal.woff2
@fontsource/righteous | OFL-1.1 | 400-normal.woff2
@fontsource/bungee | OFL-1.1 | 400-normal.woff2
@fontsource/bungee-shade | OFL-1.1 | 400-normal.woff2
@fontsource/alfa-slab-one | OFL-1.1 | 400-normal.woff2
@fontsource/black-ops-one | OFL-1.1 | 400-normal.woff2
@fontsource/special-elite | Apache-2.0 | 400-normal.woff2
@fontsource/luckiest-guy | Apache-2.0 | 400-normal.woff2
@fontsource/chewy | Apache-2.0 | 400-normal.woff2
@fontsource/audiowide | OFL-1.1 | 400-normal.woff2
@fontsource/unifrakturmaguntia | OFL-1.1 | 400-normal.woff2
@fontsource/unifrakturcook | OFL-1.1 | 700-normal.woff2
@fontsource/medievalsharp | OFL-1.1 | 400-normal.woff2
@fontsource/nosifer | OFL-1.1 | 400-normal.woff2
@fontsource/ewert | OFL-1.1 | 400-normal.woff2
@fontsource/passion-one | OFL-1.1 | 900-normal.woff2
@fontsource/sigmar-one | OFL-1.1 | 400-normal.woff2
@fontsource/staatliches | OFL-1.1 | 400-normal.woff2
@fontsource/silkscreen | OFL-1.1 | 400-normal.woff2
@fontsource/jersey-10 | OFL-1.1 | 400-normal.woff2
@fontsource/micro-5 | OFL-1.1 | 400-normal.woff2
@fontsource/shrikhand | OFL-1.1 | 400-normal.woff2
@fontsource/iceland | OFL-1.1 | 400-normal.woff2
@fontsource/aboreto | OFL-1.1 | 400-normal.woff2
@fontsource/rowdies | OFL-1.1 | 700-normal.woff2
@fontsource/uncial-antiqua | OFL-1.1 | 400-normal.woff2
@fontsource/londrina-solid | OFL-1.1 | 400-normal.woff2
@fontsource/goldman | OFL-1.1 | 700-normal.woff2
@fontsource/poiret-one | OFL-1.1 | 400-normal.woff2
@fontsource/balsamiq-sans | OFL-1.1 | 700-italic.woff2
@fontsource/monofett | OFL-1.1 | 400-normal.woff2
@fontsource-variable/orbitron | OFL-1.1 | wght-normal.woff2
@fontsource-variable/handjet | OFL-1.1 | elgr-normal.woff2
@fontsource-variable/pixelify-sans | OFL-1.1 | wght-normal.woff2
@fontsource-variable/comfortaa | OFL-1.1 | wght-normal.woff2
EOF
)

log() { printf '%s\n' "$*" >&2; }

[[ -x $PYTHON ]] || { log "no Python at $PYTHON (set PYTHON=...; it needs fontTools and brotli)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%s\n' "$SELECTION" > "$work/selection"

# Fetch just the packages the selection names, at the versions corpus.lock pins.
awk -F'|' '/^[^[#]/ { gsub(/ /, "", $1); print $1 }' "$work/selection" | sort -u > "$work/sources"
awk -F'\t' 'NR == FNR { want[$1] = 1; next } ($2 in want)' "$work/sources" "$ROOT/scripts/corpus.lock" > "$work/lock"
if [[ $(wc -l < "$work/lock") -ne $(wc -l < "$work/sources") ]]; then
  log "sources missing from scripts/corpus.lock:"
  cut -f2 "$work/lock" | sort | comm -13 - "$work/sources" >&2
  exit 1
fi
FONTGLYPHS_CORPUS_LOCK="$work/lock" "$ROOT/scripts/fetch_fonts.sh" "$CACHE" >&2

mkdir -p "$OUT"
find "$OUT" -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +  # README.md is written by hand
"$PYTHON" - "$CACHE" "$OUT" "$work/selection" "$work/lock" <<'PY'
"""Copy the selection into fonts/, derive the TTC and CFF2 files, verify every face, write the ledger."""
import csv
import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from fontTools.cffLib.CFFToCFF2 import convertCFFToCFF2
from fontTools.pens.boundsPen import ControlBoundsPen
from fontTools.ttLib import TTCollection, TTFont

LETTERS = "ABCDEFGHIJ"
APACHE_TEXT = Path("/usr/share/common-licenses/Apache-2.0")


@dataclass
class Bundled:
    path: Path  # inside fonts/
    source: str
    version: str
    license: str
    category: str


def source_dir(cache: Path, source: str) -> Path:
    return cache / ("npm/" + source[1:] if source.startswith("@") else "debian/" + source)


def out_dir_name(source: str) -> str:
    """Folder in fonts/: the Debian package, or the npm name without '@' and '/' (fontsource-pacifico)."""
    return source.lstrip("@").replace("/", "-")


def find(pkg_dir: Path, source: str, entry: str) -> Path:
    """The one file of the package that the entry names (exact name or path tail; no wildcards)."""
    tail = f"-latin-{entry}" if source.startswith("@") else "/" + entry
    hits = [p for p in pkg_dir.rglob("*") if p.is_file() and f"/{p.relative_to(pkg_dir)}".endswith(tail)]
    if len(hits) != 1:
        sys.exit(f"{source}: entry {entry!r} matches {len(hits)} files, expected 1")
    return hits[0]


def build_ttc(members: list[Path], dest: Path) -> None:
    collection = TTCollection()
    collection.fonts = [TTFont(m, recalcTimestamp=False) for m in members]
    collection.save(dest)


def build_cff2(member: Path, dest: Path) -> None:
    font = TTFont(member, recalcTimestamp=False)
    font.getGlyphOrder()  # pin glyph names before the CFF table (their source under post format 3) goes
    convertCFFToCFF2(font)
    font.save(dest)


def faces(path: Path) -> list[TTFont]:
    if path.suffix.lower() in (".ttc", ".otc"):
        return list(TTCollection(path).fonts)
    return [TTFont(path)]


def ink_bounds(glyphs, name: str) -> tuple | None:
    """Control box of the glyph's outline, None when it draws nothing (an empty glyph behind a cmap entry)."""
    pen = ControlBoundsPen(glyphs)
    glyphs[name].draw(pen)
    return pen.bounds


def check(path: Path) -> tuple[list[TTFont], str]:
    """Faces and format of the file; exits naming it when a face lacks outlines or an inked letter A-J."""
    try:
        found = faces(path)
    except Exception as error:  # noqa: BLE001 - any parse failure disqualifies the file
        sys.exit(f"{path}: fontTools cannot open it ({error})")
    for number, face in enumerate(found):
        if not any(tag in face for tag in ("glyf", "CFF ", "CFF2")):
            sys.exit(f"{path} face {number}: no outlines")
        cmap, glyphs = face.getBestCmap() or {}, face.getGlyphSet()
        missing = [c for c in LETTERS if ord(c) not in cmap]
        if missing:
            sys.exit(f"{path} face {number}: cmap lacks {''.join(missing)}")
        blank = [c for c in LETTERS if ink_bounds(glyphs, cmap[ord(c)]) is None]
        if blank:
            sys.exit(f"{path} face {number}: blank glyphs for {''.join(blank)}")
    first = found[0]
    outline = "CFF2" if "CFF2" in first else "CFF" if "CFF " in first else "TrueType"
    container = {"woff": "WOFF", "woff2": "WOFF2"}.get(first.flavor or "", path.suffix.lstrip(".").upper())
    return found, f"{container}/{outline}"


def license_text(pkg_dir: Path, source: str, version: str, license: str) -> str:
    if source.startswith("@"):
        head = f"{source} {version} (npm): LICENSE file of the package\n\n"
        return head + (pkg_dir / "LICENSE").read_text(encoding="utf-8")
    copyright_files = sorted(pkg_dir.glob("usr/share/doc/*/copyright"))
    if not copyright_files:
        sys.exit(f"{source}: no copyright file in the package")
    text = copyright_files[0].read_text(encoding="utf-8")
    head = f"{source} {version} (Debian): /usr/share/doc/{copyright_files[0].parent.name}/copyright\n\n"
    if "Apache-2.0" in license and "TERMS AND CONDITIONS FOR USE" not in text:
        # Debian refers to its common-licenses copy; the licence requires the text to travel with the files.
        text += "\n\n" + "=" * 78 + f"\n{APACHE_TEXT} (referred to above)\n\n" + APACHE_TEXT.read_text()
    return head + text


def read_selection(path: Path) -> list[tuple[str, str, str, list[str]]]:
    rows, category = [], ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            category = line.strip("[]")
            continue
        source, license, *entries = (part.strip() for part in line.split("|"))
        rows.append((category, source, license, entries))
    return rows


def main() -> None:
    logging.getLogger("fontTools").setLevel(logging.ERROR)  # quirks fontTools repairs on load are not news
    cache, out, selection, lock = (Path(arg) for arg in sys.argv[1:5])
    versions = {f[1]: f[2] for f in (line.split("\t") for line in lock.read_text().splitlines())}
    licenses: dict[str, str] = {}
    bundled: list[Bundled] = []
    for category, source, license, entries in read_selection(selection):
        pkg_dir, version = source_dir(cache, source), versions[source]
        if (pkg_dir / ".version").read_text() != version:
            sys.exit(f"{source}: cache holds another version than corpus.lock's {version}")
        if source.startswith("@"):
            declared = json.loads((pkg_dir / "package.json").read_text())["license"]
            if declared != license:
                sys.exit(f"{source}: package.json says {declared}, selection says {license}")
        if licenses.setdefault(source, license) != license:
            sys.exit(f"{source}: two licences given ({licenses[source]} and {license})")
        dest_dir = out / out_dir_name(source)
        dest_dir.mkdir(parents=True, exist_ok=True)
        for entry in entries:
            name, _, recipe = (part.strip() for part in entry.partition("="))
            found = None if recipe else find(pkg_dir, source, name)
            dest = dest_dir / (found.name if found else name)
            if dest.exists():
                sys.exit(f"{dest}: two entries write this file")
            if found:
                dest.write_bytes(found.read_bytes())
            elif recipe.startswith("CFF2 "):
                build_cff2(find(pkg_dir, source, recipe[5:].strip()), dest)
            else:
                build_ttc([find(pkg_dir, source, m.strip()) for m in recipe.split("+")], dest)
            bundled.append(Bundled(dest.relative_to(out), source, version, license, category))

    (out / "LICENSES").mkdir()
    for source, license in licenses.items():
        text = license_text(source_dir(cache, source), source, versions[source], license)
        (out / "LICENSES" / f"{out_dir_name(source)}.txt").write_text(text, encoding="utf-8")

    stats = {"files": 0, "faces": 0, "ttc_faces": 0, "variable": 0, "instances": 0}
    formats: Counter[str] = Counter()
    with open(out / "SOURCES.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["path", "family", "package", "package_version", "license", "license_file",
                         "category", "format", "faces", "named_instances"])  # fmt: skip
        for item in sorted(bundled, key=lambda b: str(b.path)):
            found, fmt = check(out / item.path)
            instances = len(found[0]["fvar"].instances) if "fvar" in found[0] else 0
            writer.writerow([item.path.as_posix(), found[0]["name"].getBestFamilyName(), item.source,
                             item.version, item.license, f"LICENSES/{out_dir_name(item.source)}.txt",
                             item.category, fmt, len(found), instances])
            stats["files"] += 1
            stats["faces"] += len(found)
            stats["ttc_faces"] += len(found) if len(found) > 1 else 0
            stats["variable"] += bool(instances)
            stats["instances"] += instances
            formats[fmt] += 1
    print(", ".join(f"{k}={v}" for k, v in stats.items()), file=sys.stderr)
    print("formats: " + ", ".join(f"{k}={v}" for k, v in sorted(formats.items())), file=sys.stderr)


main()
PY
log "fonts/: $(du -sk "$OUT" | cut -f1) KiB"
