#!/usr/bin/env python3
"""ht-cfn-deploy.py: create or update a CloudFormation stack and wait for it,
with boto3 against an endpoint (moto_server in the tests); prints the
stack's outputs as one JSON object. The credentials and the region come
from the environment, as for the aws CLI.

usage: ht-cfn-deploy.py ENDPOINT STACK TEMPLATE [KEY=VALUE ...]
"""
import json
import os
import sys
import time

import boto3
import botocore.exceptions


def main():
    endpoint, stack, template = sys.argv[1:4]
    params = [dict(zip(("ParameterKey", "ParameterValue"), p.split("=", 1))) for p in sys.argv[4:]]
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name=region)
    body = open(template).read()
    try:
        cfn.describe_stacks(StackName=stack)
        exists = True
    except botocore.exceptions.ClientError:
        exists = False
    args = dict(StackName=stack, TemplateBody=body, Parameters=params, Capabilities=["CAPABILITY_NAMED_IAM"])
    (cfn.update_stack if exists else cfn.create_stack)(**args)
    for _ in range(120):
        st = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not st["StackStatus"].endswith("_IN_PROGRESS"):
            break
        time.sleep(0.5)
    if st["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        for e in events:
            if e.get("ResourceStatusReason"):
                print(e["LogicalResourceId"], e["ResourceStatus"], e["ResourceStatusReason"], file=sys.stderr)
        sys.exit("stack %s: %s" % (stack, st["StackStatus"]))
    print(json.dumps({o["OutputKey"]: o["OutputValue"] for o in st.get("Outputs", [])}))


if __name__ == "__main__":
    main()
