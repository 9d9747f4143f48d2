-- wrk script: POST /api/activities with a valid JSON body.
wrk.method = "POST"
wrk.body = '{"handle": "worf", "message": "benchmark message", "ttl": "1-hour"}'
wrk.headers["Content-Type"] = "application/json"
