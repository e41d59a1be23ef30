-- Headers in an unusual order (MIME headers first, From last, duplicates, a folded
-- value, someone else's Authentication-Results): the message passes unchanged.
dofile(script_dir .. "/common.lua")
local conn = open_conn()
envelope(conn, "ODD1", "<alice@example.org>", {"<bob@example.net>"})
headers(conn, {
  {"Content-Transfer-Encoding", "7bit"},
  {"MIME-Version", "1.0"},
  {"Content-Type", "text/plain;\n\tcharset=us-ascii"},
  {"X-Dup", "one"},
  {"Authentication-Results", "other.example.net; dkim=pass"},
  {"X-Dup", "two"},
  {"Subject", "odd order"},
  {"From", "Alice <alice@example.org>"},
})
mt.bodystring(conn, "hello\r\n")
expect_reply(conn, SMFIR_CONTINUE, "body")
finish(conn, "odd headers")
if mt.eom_check(conn, MT_HDRDELETE) then error("a header was deleted") end
if mt.eom_check(conn, MT_BODYCHANGE) then error("the body was changed") end
mt.disconnect(conn)
