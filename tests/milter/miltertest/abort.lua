-- Abort in the middle of the body, then a complete message on the same connection.
dofile(script_dir .. "/common.lua")
local conn = open_conn()
envelope(conn, "ABORT1", "<alice@example.org>", {"<bob@example.net>"})
headers(conn, {{"From", "alice@example.org"}, {"Subject", "aborted"}})
for i = 1, 100 do
  mt.bodystring(conn, "part of a message that will be aborted ........................\r\n")
end
if mt.abort(conn) ~= nil then error("abort failed") end
envelope(conn, "ABORT2", "<carol@example.org>", {"<dave@example.net>"})
headers(conn, {{"From", "carol@example.org"}, {"Subject", "after abort"}})
mt.bodystring(conn, "complete\r\n")
finish(conn, "message after abort")
mt.disconnect(conn)
