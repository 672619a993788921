# fig1b_decode_throughput.gp — Fig. 1b (§5): decode throughput (tokens/s) when sampling
# N tokens from an empty prompt, at the largest batch that fits the memory budget; y from
# zero. Dashed: the limit, each step at the larger of (weights + B x state) / read
# bandwidth and FLOPs / sgemm rate, both measured in the same run.
# Data: curve 'decode_throughput', series = family ('MQA', 'Hawk', 'Griffin', optionally
#       with a size, 'Hawk 1B'), x = tokens sampled, y = tokens/s (whole batch);
#       curve 'decode_throughput:limit' (same series and x), y = tokens/s at the limit;
#       curve 'roofline_limits' series 'GB/s' and 'GFLOP/s' (the limits, for the title).
fig = 'fig1b_decode_throughput'
load (exists("dir") ? dir : 'plots').'/common.gp'
CURVE = 'decode_throughput'; SUITE = 'throughput'; YEXPR = 'y'
RF = (run ne '') ? run : val(sprintf("select coalesce(max(run_id),'') from curve where name='%s'", CURVE))
eval(limits_of(RF))
PTITLE = 'Fig. 1b: decode throughput vs sample length (largest batch within the memory budget)'.decode_limit_note(BW, PK)
XL = 'tokens sampled'; YL = 'throughput (tokens/s)'; LOGX = 2; LOGY = 0; FOOT = 1; YZERO = 1
load dir.'/curve_panel.gp'
