"""Where the operator CLI runs: the local stack found under KEYPORT_HOME, or a deployed stage on AWS; and the one
line it prints for a failure of its surroundings (no stack, no credentials, an AWS refusal) instead of a traceback.

Kept apart from chalicelib.cli so that nothing here imports the settings or the models: the environment must be
complete before chalicelib.config reads it (once per process).
"""

import os
from typing import Dict, Iterator, Mapping, Optional, Tuple

from chalicelib import local

AWS_OUTPUTS = {  # what a deployed stage needs, and the stack Output it comes from
    "KEYPORT_SERVER_SECRET_ARN": "ServerSecretArn",
    "KEYPORT_KMS_KEY_ARN": "DeviceKeysKeyArn",
}
SETUP_CODES = {
    "ResourceNotFoundException",
    "ExpiredTokenException",
    "ExpiredToken",
    "KMSAccessDeniedException",
    "NotFoundException",
    "ResourceNotFound",
}


class SetupError(Exception):
    """The command cannot run here as invoked: the message says what to do."""


def stack_home(environ: Mapping[str, str]) -> str:
    """The local stack's folder, as `make run` chooses it (KEYPORT_HOME, else .local in the project)."""
    return os.path.abspath(environ.get("KEYPORT_HOME") or os.path.join(local.PROJECT_DIR, ".local"))


def stage_environment(environ: Mapping[str, str]) -> Dict[str, str]:
    """The variables to add to the environment before the settings are read; SetupError when the stage lacks one."""
    stage = environ.get("KEYPORT_STAGE") or "local"
    if stage == "local":
        return _local_stack(environ)
    if stage == "test":  # the test suite sets every variable itself (tests/conftest.py), on moto
        return {}
    return _aws_stage(stage, environ)


def _local_stack(environ: Mapping[str, str]) -> Dict[str, str]:
    home = stack_home(environ)
    added = {"KEYPORT_STAGE": "local", "KEYPORT_HOME": home}
    if not environ.get("KEYPORT_SERVER_SECRET"):
        added["KEYPORT_SERVER_SECRET"] = _read_secret(home)
    if not environ.get("KEYPORT_DYNAMODB_ENDPOINT"):
        record = local.read_stack(home)
        if record is None:
            raise SetupError(
                f"no local stack runs from {home} (no {local.STACK_FILE} there): start it with "
                "`make run`, or set KEYPORT_HOME to the folder it runs from"
            )
        added["KEYPORT_DYNAMODB_ENDPOINT"] = record["dynamodb_endpoint"]
    # DynamoDB Local runs with -sharedDb: any credentials see the same data, and a profile must not leak in.
    added.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": environ.get("AWS_DEFAULT_REGION") or "eu-central-1",
        }
    )
    return added


def _read_secret(home: str) -> str:
    path = os.path.join(home, local.SERVER_SECRET_FILE)
    try:
        with open(path) as handle:
            secret = handle.read().strip()
    except FileNotFoundError:
        raise SetupError(
            f"no server secret at {path}: start the local stack once with `make run` (KEYPORT_HOME names its folder)"
        ) from None
    except OSError as error:
        raise SetupError(f"cannot read the server secret {path}: {error.strerror}") from None
    try:
        if len(bytes.fromhex(secret)) >= 32:
            return secret
    except ValueError:
        pass
    raise SetupError(
        f"the server secret {path} is not 64 hex digits: restore it from a backup (links and codes "
        "made with it depend on it)"
    )


def _aws_stage(stage: str, environ: Mapping[str, str]) -> Dict[str, str]:
    missing = [name for name in AWS_OUTPUTS if not environ.get(name)]
    if missing:
        outputs = ", ".join(f"{name} (stack Output {AWS_OUTPUTS[name]})" for name in missing)
        raise SetupError(f"stage {stage} needs {outputs}; refusing to run without (never the local key file)")
    return {}


def explain_failure(error: BaseException, environ: Mapping[str, str]) -> Optional[Tuple[str, bool]]:
    """(one line, whether the operator's setup is at fault) for a failure of AWS or DynamoDB Local, whatever
    wrapped it (pynamodb does); None for anything else."""
    import botocore.exceptions as aws

    for cause in _causes(error):
        if isinstance(cause, (aws.NoCredentialsError, aws.PartialCredentialsError)):
            return (
                f"no AWS credentials for stage {environ.get('KEYPORT_STAGE')}: set AWS_PROFILE (or the "
                "AWS_ACCESS_KEY_ID pair) to an identity of the account the stage runs in",
                True,
            )
        if isinstance(cause, aws.NoRegionError):
            return "no AWS region: set AWS_DEFAULT_REGION to the stage's region", True
        if isinstance(cause, aws.EndpointConnectionError):
            if environ.get("KEYPORT_STAGE") == "local":
                return (
                    f"DynamoDB Local does not answer at {environ.get('KEYPORT_DYNAMODB_ENDPOINT')}: is the "
                    f"local stack running (`make run` with KEYPORT_HOME={environ.get('KEYPORT_HOME')})?",
                    True,
                )
            return f"cannot reach AWS: {cause}", True
        if isinstance(cause, aws.ClientError):
            code = cause.response.get("Error", {}).get("Code", "")
            message = cause.response.get("Error", {}).get("Message", "")
            hint = "; run `create-tables` first" if code == "ResourceNotFoundException" else ""
            setup = code in SETUP_CODES or code.startswith(("AccessDenied", "UnrecognizedClient", "InvalidClientToken"))
            return f"AWS refused the call: {code}: {message}{hint}", setup
        if isinstance(cause, aws.BotoCoreError):
            return f"AWS call failed: {cause}", False
    return None


def _causes(error: Optional[BaseException]) -> Iterator[BaseException]:
    """The error and what it wraps (pynamodb keeps the botocore error in .cause), outermost first."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = getattr(error, "cause", None) or error.__cause__ or error.__context__
