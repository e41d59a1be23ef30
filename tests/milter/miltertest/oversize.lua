-- Over limits.max_message_size (the runner's configuration: 100000 bytes): the
-- configured action (reject) with a clear 552 5.3.4 reply, then the connection serves
-- the next message normally.
dofile(script_dir .. "/common.lua")
local conn = open_conn()
envelope(conn, "BIG1", "<alice@example.org>", {"<bob@example.net>"})
headers(conn, {{"From", "alice@example.org"}, {"Subject", "big"}})
local line = string.rep("x", 998) .. "\r\n"
local rejected = false
for i = 1, 200 do
  mt.bodystring(conn, line)
  local r = mt.getreply(conn)
  if r == SMFIR_REPLYCODE then rejected = true break end
  if r ~= SMFIR_CONTINUE then error("unexpected reply to body chunk " .. i .. ": " .. tostring(r)) end
end
if not rejected then error("oversized message was not rejected") end
envelope(conn, "BIG2", "<alice@example.org>", {"<bob@example.net>"})
headers(conn, {{"From", "alice@example.org"}})
mt.bodystring(conn, "small\r\n")
finish(conn, "message after the oversized one")
mt.disconnect(conn)
