# curve_panel.gp — one panel of x/y series from the curve table (a subroutine:
# set the variables below, then `load dir.'/curve_panel.gp'`).
#   CURVE  curve name           YEXPR  SQL expression for y (e.g. 'y' or 'y/60')
#   SUITE  suite that fills it  PTITLE, XL, YL  panel title and axis labels
#   LOGX   0, 2 or 10           LOGY   0 or 10
#   FOOT   1: add the machine/commit footnote
#   HINT   what to run when there is no data (default: griffin run SUITE)
#   SWHERE only the series for which this SQL condition holds (default '1': all),
#          e.g. "series like '% d=128'" for one panel of small multiples
#   YZERO  1: the y axis starts at zero
#   KEYCUT text left out of the key's titles (what the panel title already says)
# Measured series are solid lines with points in their family's colour (common.gp).
# Where the run also stored curve CURVE.':limit' (the same series and x: the
# limit each point is judged against, from limits measured in that run), each
# limit series is drawn as a dashed line in the same colour, titled '<series> limit'.
if (!exists("YEXPR")) { YEXPR = 'y' }
if (!exists("HINT")) { HINT = '' }
if (!exists("LOGY")) { LOGY = 0 }
if (!exists("FOOT")) { FOOT = 1 }
if (!exists("SWHERE")) { SWHERE = '1' }
if (!exists("YZERO")) { YZERO = 0 }
if (!exists("KEYCUT")) { KEYCUT = '' }
R = (run ne '') ? run : val(sprintf("select coalesce(max(run_id),'') from curve where name='%s'", CURVE))
WH(n) = sprintf("from curve where run_id=%s and name='%s' and (%s)", R, n, SWHERE)
NS = (R eq '') ? 0 : num(sprintf("select count(distinct series) %s", WH(CURVE)))
NLIM = (R eq '') ? 0 : num(sprintf("select count(distinct series) %s", WH(CURVE.':limit')))
set title PTITLE
set xlabel XL
set ylabel YL
if (NS == 0) {
    eval(nodata(HINT ne '' ? 'no data yet — run: '.HINT : sprintf("no data yet — run: griffin run %s", SUITE)))
} else {
    if (LOGX > 0) { set logscale x LOGX } else { unset logscale x }
    if (LOGY > 0) { set logscale y LOGY } else { unset logscale y }
    if (YZERO) { set yrange [0:*] }
    if (FOOT) { eval(set_footnote(R)) }
    S(i) = sprintf("(select series %s group by series order by series limit 1 offset %d)", WH(CURVE), i - 1)
    L(i) = sprintf("(select series %s group by series order by series limit 1 offset %d)", WH(CURVE.':limit'), i - 1)
    # the i-th series' name (looked up once: its colour, dash and title agree) and data
    # (measured: S, limit: L), and a key title
    array SNA[NS]
    do for [i=1:NS] { SNA[i] = val(sprintf("select %s", S(i))) }
    array LNA[NLIM > 0 ? NLIM : 1]
    do for [i=1:NLIM] { LNA[i] = val(sprintf("select %s", L(i))) }
    SN(i) = SNA[i]
    LN(i) = LNA[i]
    SQ(i) = sql(sprintf("select x, %s %s and series=%s order by x", YEXPR, WH(CURVE), S(i)))
    LQ(i) = sql(sprintf("select x, %s %s and series=%s order by x", YEXPR, WH(CURVE.':limit'), L(i)))
    KT(s) = val(sprintf("select replace('%s', '%s', '')", s, KEYCUT))
    MEASURED = "for [i=1:NS] SQ(i) using 1:2 with linespoints lc rgb famcol(SN(i)) dt famdash(SN(i)) pt (5 + i % 4) ps 0.8 title KT(SN(i))"
    LIMITS = ", for [i=1:NLIM] LQ(i) using 1:2 with lines lc rgb famcol(LN(i)) dt 2 lw 1.5 title KT(LN(i)).' limit'"
    eval('plot '.MEASURED.(NLIM > 0 ? LIMITS : ''))
    unset label 99
    unset logscale
    if (YZERO) { set autoscale y }
}
