-- Health of a FigmaToken from the kstatus conditions its operator writes: Ready (the Secret
-- holds this FigmaToken's unexpired access token), Stalled (nothing improves without a person)
-- and Reconciling (a transient failure is being retried). It agrees with kstatus, which Flux and
-- kpt use: Healthy is Current, Degraded is Failed, Progressing is InProgress. Suspended has no
-- kstatus counterpart. Only Lua's base functions are used, so it runs from argocd-cm as it is.
local hs = {}

local function find(conditions, conditionType)
  for _, c in ipairs(conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function holds(c)
  return c ~= nil and c.status == "True"
end

local function describe(c)
  if c.message ~= nil and c.message ~= "" then
    return c.reason .. ": " .. c.message
  end
  return c.reason
end

local generation = obj.metadata.generation
local waiting = "Waiting for the operator to observe generation " .. tostring(generation)
local conditions = nil
if obj.status ~= nil then
  conditions = obj.status.conditions
end
-- Nothing written yet, or written for an older spec: the conditions do not describe this one.
if conditions == nil or #conditions == 0 or
    (obj.status.observedGeneration ~= nil and obj.status.observedGeneration ~= generation) then
  hs.status = "Progressing"
  hs.message = waiting
  return hs
end

local ready = find(conditions, "Ready")
local stalled = find(conditions, "Stalled")
local reconciling = find(conditions, "Reconciling")
-- While Ready is True the token in the Secret still works: say so after the problem.
local function withToken(message)
  if holds(ready) and ready.message ~= nil then
    return message .. " " .. ready.message
  end
  return message
end

if obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = withToken("spec.suspend is true: no refreshes until it is false.")
  return hs
end
-- Stalled wins over Ready: the token still works, but it lapses unless a person acts.
if holds(stalled) then
  hs.status = "Degraded"
  hs.message = withToken(describe(stalled))
  return hs
end
if holds(reconciling) then
  hs.status = "Progressing"
  hs.message = withToken(describe(reconciling))
  return hs
end
if holds(ready) then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end
-- Ready False without Stalled (Pending, Expired, an overwrite being restored): the operator
-- acts on it by itself.
if ready ~= nil then
  hs.status = "Progressing"
  hs.message = describe(ready)
  return hs
end
hs.status = "Progressing"
hs.message = waiting
return hs
