# fig5_longctx.gp — Fig. 5 (§6.1, App. G): next-token loss averaged by position on
# held-out long documents, log x: one panel per training length (the paper's panels
# are per training length too), each with the models trained at that length and the
# bigram control, a dashed vertical line at the training length.
# Data: curve 'loss_by_position' (mean over seeds) and 'loss_by_position:sd' (their
#       standard deviation), series '<Family> T=<T_train>' (e.g. 'Hawk T=256') and 'bigram control',
#       x = token position (bucket centre), y = mean loss in nats.
fig = 'fig5_longctx'
load (exists("dir") ? dir : 'plots').'/common.gp'
CURVE = 'loss_by_position'; SUITE = 'longctx'; YEXPR = 'y'
XL = 'token position'; YL = 'mean next-token loss (nats)'; LOGX = 10; LOGY = 0
set key bottom right
T1 = 'Fig. 5: loss by position on held-out books, mean ± sd over seeds (dashed: the training length)'
R0 = (run ne '') ? run : val(sprintf("select coalesce(max(run_id),'') from curve where name='%s'", CURVE))
TT = (R0 eq '') ? '' : val(sprintf("select group_concat(t, ' ') from (select distinct cast(substr(series, instr(series,'T=')+2) as integer) as t from curve where run_id=%s and name='%s' and instr(series,'T=')>0 order by t)", R0, CURVE))
if (words(TT) <= 1) {
    do for [t in TT] { set arrow from first t+0, graph 0 to first t+0, graph 1 nohead dt 2 lc rgb 'gray40' }
    PTITLE = T1; SWHERE = '1'; FOOT = 1
    load dir.'/curve_panel_sd.gp'
} else {
    # the same y range in every panel, so the panels compare at a glance
    YR = val(sprintf("select min(y) || ':' || max(y) from curve where run_id=%s and name='%s'", R0, CURVE))
    set multiplot layout 1, words(TT) title T1 noenhanced
    do for [ti = 1:words(TT)] {
        t = word(TT, ti)
        set arrow 1 from first t+0, graph 0 to first t+0, graph 1 nohead dt 2 lc rgb 'gray40'
        eval('set yrange ['.YR.']')
        PTITLE = 'trained at T='.t; FOOT = (ti == words(TT))
        SWHERE = "series like '% T=".t."' or instr(series, 'T=') = 0"
        load dir.'/curve_panel_sd.gp'
        unset arrow 1
    }
    unset multiplot
}
