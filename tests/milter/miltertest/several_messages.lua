-- Several messages on one connection, each with its own envelope and headers; a
-- forged Authentication-Results is removed in each message, not just the first.
dofile(script_dir .. "/common.lua")
local conn = open_conn()
for n = 1, 5 do
  envelope(conn, "MULTI" .. n, "<alice@example.org>", {"<bob@example.net>", "<carol@example.net>"})
  headers(conn, {
    {"From", "alice@example.org"},
    {"Subject", "message " .. n},
    {"Authentication-Results", authserv_id .. "; smime=pass"},
  })
  mt.bodystring(conn, "body of message " .. n .. "\r\n")
  finish(conn, "message " .. n)
  if not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") then
    error("message " .. n .. ": forged Authentication-Results not removed")
  end
end
mt.disconnect(conn)
