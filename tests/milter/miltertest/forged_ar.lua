-- Authentication-Results claiming our authserv-id (odd spellings included) are
-- deleted; those of other hosts are kept; nothing is added by the phase-1 pipeline.
dofile(script_dir .. "/common.lua")
local conn = open_conn()
envelope(conn, "FORGE1", "<mallory@example.net>", {"<alice@example.org>"})
headers(conn, {
  {"Authentication-Results", "other.example.net; spf=pass"},
  {"Authentication-Results", "(forged) " .. string.upper(authserv_id) .. "; smime=pass"},
  {"From", "mallory@example.net"},
})
mt.bodystring(conn, "trust me\r\n")
finish(conn, "forged AR")
if not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") then
  error("forged Authentication-Results not removed")
end
mt.disconnect(conn)

-- Only someone else's: nothing deleted.
conn = open_conn()
envelope(conn, "FORGE2", "<bob@example.net>", {"<alice@example.org>"})
headers(conn, {
  {"Authentication-Results", authserv_id .. ".evil.example; smime=pass"},
  {"From", "bob@example.net"},
})
mt.bodystring(conn, "hi\r\n")
finish(conn, "foreign AR")
if mt.eom_check(conn, MT_HDRDELETE) then error("a foreign Authentication-Results was deleted") end
mt.disconnect(conn)
