-- Shared by bench/post_event.lua and bench/get_timeline.lua (loaded with dofile): number the wrk
-- threads, count every answer outside 2xx, keep the first error, and print the totals at the end as
-- "lua_requests: N", "lua_non_2xx: N" and "lua_first_error: ..." (bench/_harness.py reads them).
-- The including script counts its requests in the global `sent`.

local threads = {}

-- Runs in the main thread once per wrk thread, before it starts: number the threads.
function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

sent = 0            -- globals, so that done() can read them with thread:get()
non_2xx = 0
first_error = nil

function response(status, _, body)
   if status < 200 or status > 299 then
      non_2xx = non_2xx + 1
      if first_error == nil then
         first_error = status .. " " .. string.sub(body or "", 1, 300):gsub("%s+", " ")
      end
   end
end

-- Runs in the main thread at the end: add up the threads' counters.
function done(summary, latency, requests)
   local total_sent, total_non_2xx, error_text = 0, 0, nil
   for _, thread in ipairs(threads) do
      total_sent = total_sent + (thread:get("sent") or 0)
      total_non_2xx = total_non_2xx + (thread:get("non_2xx") or 0)
      error_text = error_text or thread:get("first_error")
   end
   io.write(string.format("lua_requests: %d\n", total_sent))
   io.write(string.format("lua_non_2xx: %d\n", total_non_2xx))
   if error_text then
      io.write("lua_first_error: " .. error_text .. "\n")
   end
end

-- Read a whole file (request templates, waybill numbers).
function read_file(path)
   local file = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
   local text = file:read("*a")
   file:close()
   return text
end

-- The non-empty lines of a file.
function read_lines(path)
   local lines = {}
   for line in read_file(path):gmatch("[^\n]+") do
      table.insert(lines, line)
   end
   return lines
end
