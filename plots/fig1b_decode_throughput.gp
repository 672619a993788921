# fig1b_decode_throughput.gp — Fig. 1b (§5): decode throughput (tokens/s) when sampling
# N tokens from an empty prompt, at the largest batch that fits the memory budget.
# Data: curve 'decode_throughput', series = family ('MQA', 'Hawk', 'Griffin', optionally
#       with a size, 'Hawk 1B'), x = tokens sampled, y = tokens/s (whole batch).
fig = 'fig1b_decode_throughput'
load (exists("dir") ? dir : 'plots').'/common.gp'
CURVE = 'decode_throughput'; SUITE = 'throughput'; YEXPR = 'y'
PTITLE = 'Fig. 1b: decode throughput vs sample length (largest batch within the memory budget)'
XL = 'tokens sampled'; YL = 'throughput (tokens/s)'; LOGX = 2; LOGY = 0; FOOT = 1
load dir.'/curve_panel.gp'
