-- A body in many small chunks, larger than the spool threshold (spooled to disk),
-- still under the size limit: processed normally.
dofile(script_dir .. "/common.lua")
local conn = open_conn()
envelope(conn, "CHUNK1", "<alice@example.org>", {"<bob@example.net>"})
headers(conn, {{"From", "alice@example.org"}, {"Subject", "chunks"}})
for i = 1, 600 do
  mt.bodystring(conn, string.format("line %04d of a body sent in many chunks .......\r\n", i))
  expect_reply(conn, SMFIR_CONTINUE, "body chunk " .. i)
end
finish(conn, "many chunks")
mt.disconnect(conn)
