-- Health of a FigmaOAuthClient (or ClusterFigmaOAuthClient) from the kstatus conditions its
-- operator writes: Ready (FigmaTokens may refresh through it) and Stalled (its Secret or key is
-- missing, or the identity it would sign with is not allowed: a person must act). It agrees
-- with kstatus: Healthy is Current, Degraded is Failed, Progressing is InProgress. Only Lua's
-- base functions are used, so it runs from argocd-cm as it is.
local hs = {}

local function find(conditions, conditionType)
  for _, c in ipairs(conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local generation = obj.metadata.generation
local conditions = nil
if obj.status ~= nil then
  conditions = obj.status.conditions
end
if conditions == nil or #conditions == 0 or
    (obj.status.observedGeneration ~= nil and obj.status.observedGeneration ~= generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end
local ready = find(conditions, "Ready")
local stalled = find(conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.reason .. ": " .. (stalled.message or "")
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end
hs.status = "Progressing"
if ready ~= nil then
  hs.message = ready.reason .. ": " .. (ready.message or "")
else
  hs.message = "Waiting for the operator to report Ready"
end
return hs
