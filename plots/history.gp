# history.gp — the nightly check's view: each metric's median over the last 30 ok runs on
# the machine of the newest run with results, relative to the oldest run in the window
# (100 = unchanged), with MAD error bars. x labels: commit@MM-DD. `griffin plot history
# --metric real_time` keeps one metric. At most 12 series (the first cases by name).
fig = 'history'
load (exists("dir") ? dir : 'plots').'/common.gp'
R = (run ne '') ? run : val("select coalesce(max(r.id),'') from run r where r.status='ok' and exists (select 1 from result x where x.run_id=r.id)")
MF = (metric eq '') ? '' : sprintf(" and metric='%s'", metric)
NS = (R eq '') ? 0 : num(sprintf("select min(12, count(*)) from (select distinct case_id, metric from result where run_id=%s%s)", R, MF))
set title 'History: median of each metric relative to the oldest run shown (nightly regression check)'
set xlabel 'run (commit@date)'
set ylabel 'median, % of the first run (lower/higher better per metric)'
if (NS == 0) {
    eval(nodata('no data yet — run: scripts/nightly.sh (or griffin run SUITE)'))
} else {
    eval(set_footnote(R))
    set key outside right top vertical
    set xtics rotate by -45 font ',8'
    set bmargin 9
    W = sprintf("w as (select r.id, r.started, b.git_commit from run r join machine m on m.id=r.machine_id join build b on b.id=r.build_id where r.status='ok' and r.suite=(select suite from run where id=%s) and m.fingerprint=(select m2.fingerprint from run r2 join machine m2 on m2.id=r2.machine_id where r2.id=%s) order by r.id desc limit 30)", R, R)
    K(i) = sprintf("k as (select case_id, metric from result where run_id=%s%s group by case_id, metric order by case_id, metric limit 1 offset %d)", R, MF, i - 1)
    D = "d as (select w.id, substr(w.git_commit,1,7) || '@' || substr(w.started,6,5) as lab, res.median, res.mad from result res join w on w.id=res.run_id join k on k.case_id=res.case_id and k.metric=res.metric)"
    Q(i) = sprintf("with %s, %s, %s select (select count(*) from w w2 where w2.id <= d.id), 100.0*d.median/(select median from d order by id limit 1), 100.0*coalesce(d.mad,0)/(select median from d order by id limit 1), d.lab from d order by d.id", W, K(i), D)
    T(i) = sprintf("with %s select c.name || ' ' || c.params || ' ' || k.metric || ' (' || (select unit from result where run_id=%s and case_id=k.case_id and metric=k.metric) || ')' from k join bench_case c on c.id=k.case_id", K(i), R)
    plot for [i=1:NS] sql(Q(i)) using 1:2:3:xtic(4) with yerrorlines pt 7 ps 0.7 title val(T(i))
}
