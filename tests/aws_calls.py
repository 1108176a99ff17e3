"""Recording the AWS operations code makes (DynamoDB through pynamodb, SQS, SES: every botocore client)."""

import contextlib

from botocore.client import BaseClient


@contextlib.contextmanager
def record_aws_operations():
    """Inside, every AWS call made by any botocore client is appended as "service.Operation" to the answer."""
    operations = []
    original = BaseClient._make_api_call

    def recording(client, operation_name, api_params):
        operations.append(f"{client.meta.service_model.service_name}.{operation_name}")
        return original(client, operation_name, api_params)

    BaseClient._make_api_call = recording
    try:
        yield operations
    finally:
        BaseClient._make_api_call = original


@contextlib.contextmanager
def record_aws_calls(tag=lambda: None):
    """Inside, every AWS call of any botocore client is appended as (tag(), service, operation, params); a presigned
    URL counts as the call it authorizes (its holder makes that call with the signer's rights)."""
    from botocore.signers import RequestSigner

    calls = []
    original_call, original_presign = BaseClient._make_api_call, RequestSigner.generate_presigned_url

    def recording(client, operation_name, api_params):
        calls.append((tag(), client.meta.service_model.service_name, operation_name, api_params))
        return original_call(client, operation_name, api_params)

    def presigning(signer, request_dict, operation_name, *args, **kwargs):
        calls.append((tag(), signer._service_id.hyphenize(), operation_name, {}))
        return original_presign(signer, request_dict, operation_name, *args, **kwargs)

    BaseClient._make_api_call, RequestSigner.generate_presigned_url = recording, presigning
    try:
        yield calls
    finally:
        BaseClient._make_api_call, RequestSigner.generate_presigned_url = original_call, original_presign
