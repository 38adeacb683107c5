// AWS names the constructs and the fleet file check the same way, and the one AWS CLI image the
// constructs run by default.

/**
 * The AWS CLI image, `repository:tag`, pinned: the model fetch init container, the packaging
 * Job's transfers and the model store backup all run it unless told otherwise.
 */
export const AWS_CLI_IMAGE = 'amazon/aws-cli:2.22.35';

/** An S3 bucket name, as a pattern source to build longer patterns from. */
export const S3_BUCKET_SOURCE = '[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]';

/** An S3 bucket name. */
export const S3_BUCKET_PATTERN = new RegExp(`^${S3_BUCKET_SOURCE}$`);

/**
 * An S3 prefix that a sync copies to or from: a bucket, then folders each ending in "/", with
 * only the characters S3 calls safe for keys.
 */
export const S3_FOLDER_PATTERN = new RegExp(`^s3://${S3_BUCKET_SOURCE}/([A-Za-z0-9!_.*'()-]+/)*$`);

/** An IAM role ARN in any partition, as IRSA takes it. */
export const IAM_ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
