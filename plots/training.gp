# training.gp — a `griffin train` run (newest, or --run): training loss by step
# and the periodic held-out evaluation (loss for text, accuracy for tasks).
# Data (series = the model's preset name):
#   curve 'train_loss'                             x = step   y = loss, nats
#   curve 'heldout_loss' or 'heldout_accuracy'     x = step
fig = 'training'
load (exists("dir") ? dir : 'plots').'/common.gp'
SUITE = 'train'; HINT = 'griffin train ... (records into the database)'; YEXPR = 'y'; LOGY = 0; LOGX = 0
if (run eq '') { run = val("select coalesce(max(run_id),'') from curve where name='train_loss'") }
set multiplot layout 1,2 title 'griffin train' noenhanced
CURVE = 'train_loss'; PTITLE = 'training loss'; XL = 'step'; YL = 'loss, nats'; FOOT = 0
load dir.'/curve_panel.gp'
ACC = (run eq '') ? 0 : num(sprintf("select count(*) from curve where run_id=%s and name='heldout_accuracy'", run))
if (ACC > 0) {
    set yrange [0:1.05]
    CURVE = 'heldout_accuracy'; PTITLE = 'held-out accuracy'; YL = 'accuracy'
} else {
    CURVE = 'heldout_loss'; PTITLE = 'held-out loss'; YL = 'loss, nats'
}
FOOT = 1
load dir.'/curve_panel.gp'
unset multiplot
