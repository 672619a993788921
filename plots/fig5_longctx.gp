# fig5_longctx.gp — Fig. 5 (§6.1, App. G): next-token loss averaged by position on
# held-out long documents, log x, dashed vertical lines at each training length.
# Data: curve 'loss_by_position' (mean over seeds) and 'loss_by_position:sd' (their
#       standard deviation), series '<Family> T=<T_train>' (e.g. 'Hawk T=256') and 'bigram control',
#       x = token position (bucket centre), y = mean loss in nats.
fig = 'fig5_longctx'
load (exists("dir") ? dir : 'plots').'/common.gp'
CURVE = 'loss_by_position'; SUITE = 'longctx'; YEXPR = 'y'
PTITLE = 'Fig. 5: loss by position on held-out books, mean ± sd over seeds (dashed: training lengths)'
XL = 'token position'; YL = 'mean next-token loss (nats)'; LOGX = 10; LOGY = 0; FOOT = 1
R0 = (run ne '') ? run : val(sprintf("select coalesce(max(run_id),'') from curve where name='%s'", CURVE))
TT = (R0 eq '') ? '' : val(sprintf("select group_concat(t, ' ') from (select distinct cast(substr(series, instr(series,'T=')+2) as integer) as t from curve where run_id=%s and name='%s' and instr(series,'T=')>0)", R0, CURVE))
do for [t in TT] { set arrow from first t+0, graph 0 to first t+0, graph 1 nohead dt 2 lc rgb 'gray40' }
load dir.'/curve_panel_sd.gp'
