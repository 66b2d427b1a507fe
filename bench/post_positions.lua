-- wrk script: report GNSS fixes with POST /v1/positions, BATCH fixes per request, every fix a new
-- (plate, time) pair so that the server really inserts it.
--
-- Usage (bench/positions.py runs it for you):
--   wrk -t1 -c16 -d10s --latency -s bench/post_positions.lua http://127.0.0.1:8000/v1/positions \
--       -- API_KEY RUN_TAG BATCH VEHICLES BASE_EPOCH
--
-- Each wrk thread drives VEHICLES vehicles of its own, plates "<RUN_TAG><thread>-<vehicle>" (RUN_TAG
-- is fresh for every run, so no run meets another's fixes), and numbers its fixes 0, 1, 2, ... in the
-- order it sends them: fix k goes to vehicle k mod VEHICLES at BASE_EPOCH + floor(k / VEHICLES)
-- seconds. A batch of 500 over 200 vehicles thus holds 2 or 3 consecutive seconds of each, like an upload
-- of a fleet's platform. BASE_EPOCH is 6 hours ago, so the times stay in the past and within the
-- 7 days the server takes. Answers outside 2xx are counted by bench/wrk_counts.lua; the "stored"
-- figures of the answers are added up and printed at the end as "lua_stored: N".

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk_counts.lua")

local counts_setup, counts_response, counts_done = setup, response, done
local all_threads = {}

function setup(thread)
   counts_setup(thread)
   table.insert(all_threads, thread)
end

local headers, plates, batch, vehicles, base_epoch
stored = 0          -- global, so that done() can read it with thread:get()
local serial = 0

function init(args)
   local api_key, run_tag = args[1], args[2]
   assert(args[5], "usage: -- API_KEY RUN_TAG BATCH VEHICLES BASE_EPOCH")
   batch, vehicles, base_epoch = tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
   headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. api_key,
   }
   plates = {}
   for vehicle = 1, vehicles do
      plates[vehicle] = run_tag .. thread_number .. "-" .. vehicle
   end
end

function request()
   sent = sent + 1
   local fixes = {}
   for index = 1, batch do
      local vehicle = serial % vehicles
      local step = math.floor(serial / vehicles)
      local when = os.date("!%Y-%m-%dT%H:%M:%SZ", base_epoch + step)
      -- a made-up track around Foshan: position and speed drift with the step
      fixes[index] = string.format(
         '{"plate":"%s","time":"%s","lat":%.5f,"lon":%.5f,"speed":%.1f,"heading":%d}',
         plates[vehicle + 1], when, 22.9 + vehicle * 0.001 + (step % 600) * 0.0001,
         113.2 + (step % 600) * 0.0001, 40 + step % 40, (vehicle * 7 + step) % 360)
      serial = serial + 1
   end
   return wrk.format("POST", nil, headers, '{"positions":[' .. table.concat(fixes, ",") .. "]}")
end

function response(status, response_headers, body)
   counts_response(status, response_headers, body)
   if status >= 200 and status <= 299 then
      stored = stored + (tonumber(string.match(body or "", '"stored"%s*:%s*(%d+)')) or 0)
   end
end

function done(summary, latency, requests)
   counts_done(summary, latency, requests)
   local total = 0
   for _, thread in ipairs(all_threads) do
      total = total + (thread:get("stored") or 0)
   end
   io.write(string.format("lua_stored: %d\n", total))
end
