-- wrk script: issue waybills with POST /v1/waybills, one unique shipper_reference per request.
--
-- Usage (bench/waybills.py runs it for you):
--   wrk -t2 -c32 -d15s --latency -s bench/create_waybill.lua http://127.0.0.1:8000/v1/waybills \
--       -- BODY_FILE API_KEY RUN_TAG
--
-- BODY_FILE holds the JSON body with the placeholder @SHIPPER_REFERENCE@ where the reference goes;
-- each request gets "<RUN_TAG>-<thread>-<counter>" there, because a repeated reference answers 409.
-- Every answer outside 2xx is counted (wrk itself reports them as "Non-2xx or 3xx responses"); the
-- totals are printed at the end as "lua_requests: N", "lua_non_2xx: N" and "lua_first_error: ...".

local PLACEHOLDER = "@SHIPPER_REFERENCE@"

local threads = {}

-- Runs in the main thread once per wrk thread, before it starts: number the threads.
function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

local body_head, body_tail, headers, reference_prefix
sent = 0            -- globals, so that done() can read them with thread:get()
non_2xx = 0
first_error = nil

local function read_file(path)
   local file = assert(io.open(path, "rb"), "cannot open body file " .. tostring(path))
   local text = file:read("*a")
   file:close()
   return text
end

-- Runs in each wrk thread with the arguments after "--".
function init(args)
   local body_file, api_key, run_tag = args[1], args[2], args[3]
   assert(body_file and api_key and run_tag, "usage: -- BODY_FILE API_KEY RUN_TAG")
   local body = read_file(body_file)
   local first, last = body:find(PLACEHOLDER, 1, true)
   assert(first, "the body file has no " .. PLACEHOLDER)
   body_head, body_tail = body:sub(1, first - 1), body:sub(last + 1)
   headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. api_key,
   }
   reference_prefix = run_tag .. "-" .. thread_number .. "-"
end

function request()
   sent = sent + 1
   return wrk.format("POST", nil, headers, body_head .. reference_prefix .. sent .. body_tail)
end

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
