# fig4_latency.gp — Fig. 4 (§5, App. F): time to sample N tokens at batch B, one panel
# per prompt (the paper's (a) empty prompt, (b) 4K prompt), seconds vs tokens sampled.
# Dashed: the limit, each step at the larger of (weights + B x state) / read bandwidth
# and FLOPs / sgemm rate, both measured in the same run, added up like the measurement.
# Data: curve 'decode_latency', series '<Family> prompt=<P>' (e.g. 'MQA prompt=4096'),
#       x = tokens sampled, y = seconds (total time to sample x tokens);
#       curve 'decode_latency:limit' (same series and x), y = seconds at the limit;
#       curve 'roofline_limits' series 'GB/s' and 'GFLOP/s' (the limits, for the title).
fig = 'fig4_latency'
load (exists("dir") ? dir : 'plots').'/common.gp'
CURVE = 'decode_latency'; SUITE = 'latency'; YEXPR = 'y'
XL = 'tokens sampled'; YL = 'time (s)'; LOGX = 0; LOGY = 0; YZERO = 1
RF = (run ne '') ? run : val(sprintf("select coalesce(max(run_id),'') from curve where name='%s'", CURVE))
eval(limits_of(RF))
# the prompt lengths, shortest first
PR = (RF eq '') ? '' : val(sprintf("select group_concat(p, ' ') from (select distinct cast(substr(series, instr(series,'prompt=')+7) as integer) p from curve where run_id=%s and name='%s' and instr(series,'prompt=')>0 order by p)", RF, CURVE))
T1 = 'Fig. 4: latency of sampling N tokens'.decode_limit_note(BW, PK)
if (words(PR) <= 1) {
    PTITLE = T1; SWHERE = '1'; FOOT = 1
    load dir.'/curve_panel.gp'
} else {
    set multiplot layout 1, words(PR) title T1 noenhanced
    do for [pi = 1:words(PR)] {
        PTITLE = word(PR, pi) eq '0' ? 'empty prompt' : sprintf('after a %s-token prompt', word(PR, pi)); SWHERE = "series like '% prompt=".word(PR, pi)."'"; FOOT = (pi == words(PR)); KEYCUT = ' prompt='.word(PR, pi)
        load dir.'/curve_panel.gp'
    }
    unset multiplot
}
