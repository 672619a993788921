# history.gp — the nightly check's view, one small panel per metric group (a case name and a
# metric; its series are the case's parameters, in words). y: each run's median as % of the
# series' newest accepted baseline (100 = that baseline); shaded band: the range a clean run
# falls in (95% prediction from the accepted runs before it, as `griffin check` judged it);
# black crosses: runs flagged regressed; grey rings: runs measured on a busy machine (not
# judged); dashed lines: change points (E-Divisive over the run medians). A series whose
# case names a family (family=mqa) is drawn in the family's colour (common.gp famcol),
# told apart from the family's other series by its point type; other series take the
# colours no family uses.
# `griffin plot history` computes all of that (results/check.c) and passes it as `data`
# (the series) and `data`.gp (panels, titles, change points); `--metric real_time` keeps one metric.
fig = 'history'
load (exists("dir") ? dir : 'plots').'/common.gp'
if (!exists("data")) { data = '' }
NP = 0
if (data ne '') { load data.'.gp' }
if (NP == 0) {
    eval(nodata('no data yet — run: scripts/nightly.sh (or griffin run SUITE), then griffin check'))
} else {
    COLS = (NP <= 1) ? 1 : (NP <= 4 ? 2 : 3)
    ROWS = int((NP + COLS - 1) / COLS)
    if (fmt eq 'png') { set terminal pngcairo size 520*COLS, 120 + 300*ROWS noenhanced font 'sans,9'; set output out.'.png' }
    if (fmt eq 'svg') { set terminal svg size 520*COLS, 120 + 300*ROWS dynamic noenhanced font 'sans,9' background rgb 'white'; set output out.'.svg' }
    if (fmt eq 'dumb') { set terminal dumb size 70*COLS, 8 + 22*ROWS; set output out.'.txt' }
    set style fill transparent solid 0.18 noborder
    set key top left horizontal font ',8' samplen 1.5 maxrows 3 opaque
    set xrange [XMIN - 0.5 : XMAX + 0.5]
    set xtics font ',8'
    set ytics font ',8'
    set format y '%g%%'
    set bmargin 3
    set tmargin 3
    more = (MORE > 0) ? sprintf(' (+%d more groups: griffin plot history --metric M)', MORE) : ''
    set multiplot layout ROWS, COLS title sprintf('Nightly history: suite %s on machine %s, last %d runs (x: run id). Run medians as %% of the accepted baseline; band: where a clean run falls%s', SUITE, MACHINE, NRUNS, more) font ',10'
    # the colour of series s in its panel (first series of the panel: s0)
    OTHER = '#9467bd #ff7f0e #8c564b #e377c2 #17becf #bcbd22 #000000 #7f7f7f'
    HC(s, s0) = famcol(ST[s + 1]) ne '#7f7f7f' ? famcol(ST[s + 1]) : word(OTHER, (s - s0) % 8 + 1)
    do for [p = 1:NP] {
        set title PT[p] font ',9'
        unset arrow
        do for [k = 1:NCP] {
            if (CPP[k] == p) { set arrow from CPX[k] - 0.5, graph 0 to CPX[k] - 0.5, graph 1 nohead dt 2 lw 1.5 lc rgb 'black' }
        }
        if (p == NP) { eval(set_footnote(sprintf('%d', XMAX))) } else { unset label 99 }
        plot for [s = P0[p]:P1[p]] data index s using 1:3:4 with filledcurves lc rgb HC(s, P0[p]) notitle, \
             for [s = P0[p]:P1[p]] data index s using 1:2 with linespoints lc rgb HC(s, P0[p]) pt (5 + (s - P0[p]) % 8) ps 0.6 title ST[s + 1], \
             for [s = P0[p]:P1[p]] data index s using 1:5 with points pt 2 ps 1.6 lw 2 lc rgb 'black' title (s == P0[p] ? 'flagged' : ''), \
             for [s = P0[p]:P1[p]] data index s using 1:6 with points pt 6 ps 1.6 lc rgb 'gray40' title (s == P0[p] ? 'busy' : '')
    }
    unset multiplot
}
