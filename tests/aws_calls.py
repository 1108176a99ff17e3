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
