-- Argo CD health check for observability.vigil.dev ObservabilityStack and SLO (both report Ready,
-- Progressing and Degraded with observedGeneration; the kind is read from obj). Argo CD sets `obj` and
-- runs this with gopher-lua (Lua 5.1); the tests run it with lua5.4 (test/unit/argocd/).
-- First match wins:
--   1. no status, or status written for an older generation -> Progressing: the operator has not
--      acted on this spec yet, and a Degraded left from an older spec must not fail a sync that
--      just fixed it;
--   2. Degraded True -> Degraded (it wins over Progressing: a spec that needs a fix will not
--      progress on its own);
--   3. Progressing True -> Progressing;
--   4. Ready True -> Healthy;
--   5. anything else (Ready False or Unknown, nothing wrong) -> Progressing.
local hs = {}
local kind = obj.kind or "resource"
local generation = obj.metadata and obj.metadata.generation
local status = obj.status

local function find(conditions, wanted)
  for _, c in ipairs(conditions or {}) do
    if c.type == wanted then return c end
  end
  return nil
end

-- A condition counts only for the generation it was written for.
local function current(c)
  return c ~= nil and (c.observedGeneration == nil or generation == nil or c.observedGeneration == generation)
end

local function says(c, value)
  return current(c) and c.status == value
end

local function text(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then return c.message end
  return fallback
end

if status == nil or status.conditions == nil or #status.conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the Vigil operator to report the " .. kind .. "'s status."
  return hs
end

local ready = find(status.conditions, "Ready")
local observed = status.observedGeneration
if observed == nil and ready ~= nil then observed = ready.observedGeneration end
if generation ~= nil and observed ~= nil and observed ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Vigil operator to act on generation " .. tostring(generation) ..
    " (its status is for generation " .. tostring(observed) .. ")."
  return hs
end

local degraded = find(status.conditions, "Degraded")
local progressing = find(status.conditions, "Progressing")
if says(degraded, "True") then
  hs.status = "Degraded"
  hs.message = text(degraded, kind .. " is degraded.")
elseif says(progressing, "True") then
  hs.status = "Progressing"
  hs.message = text(progressing, kind .. " is progressing.")
elseif says(ready, "True") then
  hs.status = "Healthy"
  hs.message = text(ready, kind .. " is ready.")
else
  hs.status = "Progressing"
  hs.message = text(ready, "Waiting for the " .. kind .. " to become Ready.")
end
return hs
