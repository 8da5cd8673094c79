"""The GraphQL documents the agent sends (one place, so the field lists stay in step)."""

from __future__ import annotations

POSITION_FIELDS = """
id userId accountId symbol side volume status trailWidth trailMode triggerActionIds
trailTriggeredAt mtTicket entryPrice entryTime exitPrice exitTime exitReason realizedPL memo
filledVolume retriedAsPositionId version createdAt updatedAt
"""
ACTION_FIELDS = """
id userId accountId positionId triggerPositionId type status errorMessage retryCount executedAt
expiresAt maxSlippagePips triggerPrice correlationId version createdAt updatedAt
"""
ACCOUNT_FIELDS = """
id userId brokerType accountNumber serverName displayName currency leverage balance credit equity
margin marginLevel connectionStatus lastSyncedAt version createdAt updatedAt
symbolMap { brokerSymbol symbol }
"""

ME = "query { me { id role } }"
LOAD = f"""
query Load($userId: ID) {{
  listAccounts(userId: $userId) {{ {ACCOUNT_FIELDS} }}
  listPositions(userId: $userId) {{ {POSITION_FIELDS} }}
  listActions(userId: $userId) {{ {ACTION_FIELDS} }}
}}
"""
GET_POSITION = f"query ($id: ID!) {{ getPosition(id: $id) {{ {POSITION_FIELDS} }} }}"
GET_ACTION = f"query ($id: ID!) {{ getAction(id: $id) {{ {ACTION_FIELDS} }} }}"

SUBSCRIPTIONS = {
    "Position": (
        f"subscription {{ onCreatePosition {{ {POSITION_FIELDS} }} }}",
        f"subscription {{ onUpdatePosition {{ {POSITION_FIELDS} }} }}",
    ),
    "Action": (
        f"subscription {{ onCreateAction {{ {ACTION_FIELDS} }} }}",
        f"subscription {{ onUpdateAction {{ {ACTION_FIELDS} }} }}",
    ),
    "Account": (f"subscription {{ onUpdateAccount {{ {ACCOUNT_FIELDS} }} }}",),
}

UPDATE_POSITION = f"""
mutation ($input: UpdatePositionInput!) {{ updatePosition(input: $input) {{ {POSITION_FIELDS} }} }}
"""
UPDATE_ACTION = f"""
mutation ($input: UpdateActionInput!) {{ updateAction(input: $input) {{ {ACTION_FIELDS} }} }}
"""
UPDATE_ACCOUNT = f"""
mutation ($input: UpdateAccountInput!) {{ updateAccount(input: $input) {{ {ACCOUNT_FIELDS} }} }}
"""
TRIGGER_ACTIONS = """
mutation ($input: TriggerActionsInput!) {
  triggerActions(input: $input) { position { id version } actions { id userId status } }
}
"""

ALERT_FIELDS = "id userId kind accountId positionId actionId severity resolvedAt"
RAISE_ALERT = f"""
mutation ($input: RaiseAlertInput!) {{ raiseAlert(input: $input) {{ {ALERT_FIELDS} }} }}
"""
RESOLVE_ALERT = f"""
mutation ($input: ResolveAlertInput!) {{ resolveAlert(input: $input) {{ {ALERT_FIELDS} }} }}
"""
OPEN_ALERTS = f"query {{ listAlerts(open: true) {{ {ALERT_FIELDS} }} }}"
