/*
 * template.c: the CloudFormation template of the aws provider's resources
 * (providers/aws/template.h). The permissions are docs/aws.md's tables,
 * each scoped to the one repository, bucket, function and log group the
 * stack makes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ht/diag.h"
#include "providers/aws/template.h"

/* The template, with the names of the project as the parameters'
 * defaults: @NAME@, @BUCKET@, @MEMORY@, @TIMEOUT@, @ARCH@. */
static const char text[] =
	"# hypertest: everything the aws provider needs, in one stack (written by ht-init).\n"
	"# Deploy it in two steps, since a Lambda function needs an image to exist:\n"
	"#   1. without ImageUri: the repository, the bucket, the role, the policy;\n"
	"#   2. after ht-build and ht-push, with ImageUri: the function too.\n"
	"# The commands are in docs/getting-started.md and ht-init's output.\n"
	"AWSTemplateFormatVersion: \"2010-09-09\"\n"
	"Description: hypertest test runner (ECR repository, S3 bucket, Lambda function and roles)\n"
	"Parameters:\n"
	"  Name:\n"
	"    Type: String\n"
	"    Default: \"@NAME@\"\n"
	"    AllowedPattern: \"[a-z0-9][a-z0-9._-]{0,63}\"\n"
	"    Description: The name of the repository, the function and its log group\n"
	"  BucketName:\n"
	"    Type: String\n"
	"    Default: \"@BUCKET@\"\n"
	"    Description: The bucket of results, artifacts and the duration history\n"
	"  ImageUri:\n"
	"    Type: String\n"
	"    Default: \"\"\n"
	"    Description: The test image (ht-push prints it); empty creates everything but the function\n"
	"  MemorySize:\n"
	"    Type: Number\n"
	"    Default: @MEMORY@\n"
	"    MinValue: 128\n"
	"    MaxValue: 10240\n"
	"    Description: MiB per invocation (1769 is one vCPU; browsers want 2048 or more)\n"
	"  Timeout:\n"
	"    Type: Number\n"
	"    Default: @TIMEOUT@\n"
	"    MinValue: 1\n"
	"    MaxValue: 900\n"
	"    Description: Seconds per invocation, at least timeout_s plus a few for uploads\n"
	"  Architecture:\n"
	"    Type: String\n"
	"    Default: @ARCH@\n"
	"    AllowedValues: [x86_64, arm64]\n"
	"    Description: The image's architecture (x86_64 for amd64 images)\n"
	"  EphemeralStorage:\n"
	"    Type: Number\n"
	"    Default: 512\n"
	"    MinValue: 512\n"
	"    MaxValue: 10240\n"
	"    Description: MiB of /tmp per invocation\n"
	"  RunRetentionDays:\n"
	"    Type: Number\n"
	"    Default: 30\n"
	"    MinValue: 1\n"
	"    Description: Days the bucket keeps a run's objects (the history is rewritten by every run)\n"
	"Conditions:\n"
	"  HasImage: !Not [!Equals [!Ref ImageUri, \"\"]]\n"
	"Resources:\n"
	"  Repository:\n"
	"    Type: AWS::ECR::Repository\n"
	"    Properties:\n"
	"      RepositoryName: !Ref Name\n"
	"      ImageScanningConfiguration:\n"
	"        ScanOnPush: false\n"
	"  Bucket:\n"
	"    Type: AWS::S3::Bucket\n"
	"    Properties:\n"
	"      BucketName: !Ref BucketName\n"
	"      PublicAccessBlockConfiguration:\n"
	"        BlockPublicAcls: true\n"
	"        BlockPublicPolicy: true\n"
	"        IgnorePublicAcls: true\n"
	"        RestrictPublicBuckets: true\n"
	"      BucketEncryption:\n"
	"        ServerSideEncryptionConfiguration:\n"
	"          - ServerSideEncryptionByDefault:\n"
	"              SSEAlgorithm: AES256\n"
	"      LifecycleConfiguration:\n"
	"        Rules:\n"
	"          - Id: old-runs\n"
	"            Status: Enabled\n"
	"            ExpirationInDays: !Ref RunRetentionDays\n"
	"            AbortIncompleteMultipartUpload:\n"
	"              DaysAfterInitiation: 1\n"
	"  LogGroup:\n"
	"    Type: AWS::Logs::LogGroup\n"
	"    Properties:\n"
	"      LogGroupName: !Sub \"/aws/lambda/${Name}\"\n"
	"      RetentionInDays: 14\n"
	"  ExecutionRole:\n"
	"    Type: AWS::IAM::Role\n"
	"    Properties:\n"
	"      RoleName: !Sub \"${Name}-runner\"\n"
	"      AssumeRolePolicyDocument:\n"
	"        Version: \"2012-10-17\"\n"
	"        Statement:\n"
	"          - Effect: Allow\n"
	"            Principal:\n"
	"              Service: lambda.amazonaws.com\n"
	"            Action: sts:AssumeRole\n"
	"      Policies:\n"
	"        - PolicyName: hypertest-runner\n"
	"          PolicyDocument:\n"
	"            Version: \"2012-10-17\"\n"
	"            Statement:\n"
	"              - Sid: Artifacts\n"
	"                Effect: Allow\n"
	"                Action: [s3:PutObject, s3:AbortMultipartUpload]\n"
	"                Resource: !Sub \"arn:${AWS::Partition}:s3:::${BucketName}/*\"\n"
	"              - Sid: Logs\n"
	"                Effect: Allow\n"
	"                Action: [logs:CreateLogStream, logs:PutLogEvents]\n"
	"                Resource: !GetAtt LogGroup.Arn\n"
	"  Function:\n"
	"    Type: AWS::Lambda::Function\n"
	"    Condition: HasImage\n"
	"    Properties:\n"
	"      FunctionName: !Ref Name\n"
	"      PackageType: Image\n"
	"      Code:\n"
	"        ImageUri: !Ref ImageUri\n"
	"      Role: !GetAtt ExecutionRole.Arn\n"
	"      MemorySize: !Ref MemorySize\n"
	"      Timeout: !Ref Timeout\n"
	"      Architectures: [!Ref Architecture]\n"
	"      EphemeralStorage:\n"
	"        Size: !Ref EphemeralStorage\n"
	"      Environment:\n"
	"        Variables:\n"
	"          HT_BUCKET: !Sub \"s3://${BucketName}\"\n"
	"  DeployPolicy:\n"
	"    Type: AWS::IAM::ManagedPolicy\n"
	"    Properties:\n"
	"      ManagedPolicyName: !Sub \"${Name}-deploy\"\n"
	"      Description: What the user who pushes images and runs the tests needs (attach it to them)\n"
	"      PolicyDocument:\n"
	"        Version: \"2012-10-17\"\n"
	"        Statement:\n"
	"          - Sid: EcrLogin\n"
	"            Effect: Allow\n"
	"            Action: [ecr:GetAuthorizationToken]\n"
	"            Resource: \"*\"\n"
	"          - Sid: EcrPushPull\n"
	"            Effect: Allow\n"
	"            Action: [ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart,\n"
	"                     ecr:CompleteLayerUpload, ecr:PutImage, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer,\n"
	"                     ecr:DescribeRepositories]\n"
	"            Resource: !GetAtt Repository.Arn\n"
	"          - Sid: Function\n"
	"            Effect: Allow\n"
	"            Action: [lambda:InvokeFunction, lambda:GetFunction, lambda:GetFunctionConfiguration,\n"
	"                     lambda:UpdateFunctionCode]\n"
	"            Resource: !Sub \"arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Name}\"\n"
	"          - Sid: Account\n"
	"            Effect: Allow\n"
	"            Action: [lambda:GetAccountSettings]\n"
	"            Resource: \"*\"\n"
	"          - Sid: BucketList\n"
	"            Effect: Allow\n"
	"            Action: [s3:ListBucket]\n"
	"            Resource: !GetAtt Bucket.Arn\n"
	"          - Sid: BucketObjects\n"
	"            Effect: Allow\n"
	"            Action: [s3:GetObject, s3:PutObject]\n"
	"            Resource: !Sub \"${Bucket.Arn}/*\"\n"
	"Outputs:\n"
	"  RepositoryUri:\n"
	"    Description: image.repository\n"
	"    Value: !GetAtt Repository.RepositoryUri\n"
	"  BucketName:\n"
	"    Description: aws.bucket\n"
	"    Value: !Ref Bucket\n"
	"  FunctionName:\n"
	"    Condition: HasImage\n"
	"    Description: aws.function\n"
	"    Value: !Ref Function\n"
	"  ExecutionRoleArn:\n"
	"    Value: !GetAtt ExecutionRole.Arn\n"
	"  DeployPolicyArn:\n"
	"    Description: attach to the user or role that runs ht-push and ht-invoke\n"
	"    Value: !Ref DeployPolicy\n";

int ht_aws_template_write(FILE *fp, const struct ht_aws_template *t)
{
	char memory[24], timeout[24];
	const struct {
		const char *token, *value;
	} vars[] = {
		{ "@NAME@", t->name },
		{ "@BUCKET@", t->bucket },
		{ "@MEMORY@", memory },
		{ "@TIMEOUT@", timeout },
		{ "@ARCH@", t->arch ? t->arch : "x86_64" },
	};
	const char *p = text, *at;
	size_t i;

	snprintf(memory, sizeof(memory), "%ld", t->memory_mb > 0 ? t->memory_mb : 2048);
	snprintf(timeout, sizeof(timeout), "%ld", t->timeout_s > 0 ? t->timeout_s : 900);
	while ((at = strchr(p, '@'))) {
		fwrite(p, 1, (size_t)(at - p), fp);
		for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
			if (!strncmp(at, vars[i].token, strlen(vars[i].token)))
				break;
		if (i < sizeof(vars) / sizeof(vars[0])) {
			fputs(vars[i].value, fp);
			p = at + strlen(vars[i].token);
		} else {
			fputc('@', fp);
			p = at + 1;
		}
	}
	fputs(p, fp);
	if (ferror(fp) || fflush(fp) != 0)
		return ht_error("cannot write the template: %s", strerror(errno));
	return 0;
}
