# Run: ruby examples/ruby_minitest.rb   (pg gem: apt-get install ruby-pg; PGTMP_FLAGS=-t for TCP)
require "minitest/autorun"
require "pg"

class DatabaseTest < Minitest::Test
  # One throwaway server for the whole suite; each test gets its own connection.
  URL = `pgtmp #{ENV["PGTMP_FLAGS"]}`.chomp
  abort "pgtmp failed" unless $?.success?
  Minitest.after_run { system("pgtmp", "stop", URL) }

  def setup = @db = PG.connect(URL)
  def teardown = @db.close

  def test_gets_a_private_database
    assert_equal "test", @db.exec("select current_database()").getvalue(0, 0)
  end
end
