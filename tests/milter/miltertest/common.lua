-- Shared helpers for the smime-milter miltertest scripts. The runner defines the Lua
-- globals `socket` (libmilter spec of the daemon under test) and `authserv_id`.
function open_conn()
  local conn = mt.connect(socket, 20, 0.1)
  if conn == nil then error("cannot connect to " .. socket) end
  if mt.conninfo(conn, "client.example.net", "192.0.2.10") ~= nil then
    error("conninfo failed")
  end
  return conn
end

function expect_reply(conn, want, what)
  local got = mt.getreply(conn)
  if got ~= want then
    error(what .. ": reply " .. tostring(got) .. ", want " .. tostring(want))
  end
end

function envelope(conn, qid, from, rcpts)
  mt.macro(conn, SMFIC_MAIL, "i", qid)
  if mt.mailfrom(conn, from) ~= nil then error("mailfrom failed") end
  expect_reply(conn, SMFIR_CONTINUE, "MAIL FROM")
  for _, r in ipairs(rcpts) do
    if mt.rcptto(conn, r) ~= nil then error("rcptto failed") end
    expect_reply(conn, SMFIR_CONTINUE, "RCPT TO " .. r)
  end
end

function headers(conn, list)
  for _, h in ipairs(list) do
    if mt.header(conn, h[1], h[2]) ~= nil then error("header " .. h[1] .. " failed") end
  end
  if mt.eoh(conn) ~= nil then error("eoh failed") end
end

function finish(conn, what)
  if mt.eom(conn) ~= nil then error(what .. ": eom failed") end
  expect_reply(conn, SMFIR_CONTINUE, what .. ": end of message")
end
