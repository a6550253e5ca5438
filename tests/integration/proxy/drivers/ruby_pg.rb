require 'pg'
url = ARGV[0]
def check(ok, what) abort("FAIL: #{what}") unless ok end
a = PG.connect(url); b = PG.connect(url)
a.exec('create table rt (id int primary key, v text)')
a.transaction { |c| c.exec_params('insert into rt values ($1, $2)', [1, 'a']) }
check(b.exec('select count(*) from rt').getvalue(0, 0) == '1', 'commit visible')
begin
  a.transaction { |c| c.exec_params('insert into rt values ($1, $2)', [2, 'b']); raise 'boom' }
rescue RuntimeError
end
check(b.exec('select count(*) from rt').getvalue(0, 0) == '1', 'rollback')
a.prepare('q', 'select $1::int + 1'); b.prepare('q', 'select $1::int * 10')
3.times do
  check(a.exec_prepared('q', [1]).getvalue(0, 0) == '2', 'prepared a')
  check(b.exec_prepared('q', [2]).getvalue(0, 0) == '20', 'prepared b')
end
begin
  a.exec("insert into rt values (1, 'dup')"); check(false, 'dup')
rescue PG::UniqueViolation
end
check(b.exec('select 1').getvalue(0, 0) == '1', 'b after a error')
check(a.transaction_status == PG::PQTRANS_IDLE, 'a idle')
a.exec('begin'); check(a.transaction_status == PG::PQTRANS_INTRANS, 'a in tx')
begin
  a.exec("insert into rt values (1, 'dup')")
rescue PG::UniqueViolation
end
check(a.transaction_status == PG::PQTRANS_INERROR, 'a in error')
a.exec('rollback')
a.copy_data('copy rt (id, v) from stdin') { a.put_copy_data("10\tcopy\n11\tcopy\n") }
out = []
b.copy_data('copy (select id from rt where v = \'copy\' order by id) to stdout') { while (r = b.get_copy_data); out << r; end }
check(out == ["10\n", "11\n"], "copy out #{out}")
t = Thread.new { sleep 0.5; a.cancel }
begin
  a.exec('select pg_sleep(20)'); check(false, 'cancel')
rescue PG::QueryCanceled
end
t.join
check(a.exec('select 3').getvalue(0, 0) == '3', 'a after cancel')
# a connection that leaves in the middle of a transaction
c = PG.connect(url); c.exec('begin'); c.exec("insert into rt values (99, 'gone')"); c.finish
check(b.exec('select count(*) from rt where id = 99').getvalue(0, 0) == '0', 'left tx undone')
b.exec("ROLLBACK TEST 'ruby'")
begin
  b.exec('select * from rt'); check(false, 'gone')
rescue PG::UndefinedTable
end
a.close; b.close
puts 'ok'
