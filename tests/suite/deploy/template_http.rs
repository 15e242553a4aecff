//! The HTTP Lambda in the template: its function, its Function URL
//! (`AuthType: AWS_IAM`) and the URL's output, checked where the template
//! declares them (moto's CloudFormation has no `AWS::Lambda::Url`:
//! `template_moto` deploys with `HttpApiUrlEnabled=false`, and cfn-lint
//! checks the URL's properties against CloudFormation's schema); its role
//! against what it sends is in [`http_grants`](super::http_grants).

use serde_json::{Value, json};

use super::{template, variables_named_in};

#[test]
fn the_template_gives_the_http_lambda_a_function_url_with_iam_auth() {
    let t = template();
    let resource = |name: &str| -> Value {
        t["Resources"]
            .get(name)
            .unwrap_or_else(|| panic!("resource {name}"))
            .clone()
    };

    let url = resource("HttpApiUrl");
    assert_eq!(url["Type"], "AWS::Lambda::Url");
    assert_eq!(url["Properties"]["AuthType"], "AWS_IAM");
    assert_eq!(
        url["Properties"]["TargetFunctionArn"],
        json!({"Fn::GetAtt": ["HttpApiFunction", "Arn"]})
    );
    assert_eq!(url["Properties"]["InvokeMode"], "BUFFERED");
    // On by default; only an emulator (or a stack fronted otherwise) turns
    // it off.
    assert_eq!(url["Condition"], "HasHttpApiUrl");
    assert_eq!(
        t["Conditions"]["HasHttpApiUrl"],
        json!({"Fn::Equals": [{"Ref": "HttpApiUrlEnabled"}, "true"]})
    );
    assert_eq!(t["Parameters"]["HttpApiUrlEnabled"]["Default"], "true");
    // No resource policy opens it: a caller needs IAM permission of its own.
    let permissions: Vec<&String> = t["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Lambda::Permission")
        .map(|(name, _)| name)
        .collect();
    assert!(
        permissions.is_empty(),
        "no Lambda permission: {permissions:?}"
    );

    let output = &t["Outputs"]["HttpApiUrl"];
    assert_eq!(
        output["Value"],
        json!({"Fn::GetAtt": ["HttpApiUrl", "FunctionUrl"]})
    );
    assert_eq!(output["Condition"], "HasHttpApiUrl");

    let function = resource("HttpApiFunction")["Properties"].clone();
    assert_eq!(function["Runtime"], "provided.al2023");
    assert_eq!(function["Handler"], "bootstrap");
    assert_eq!(function["Architectures"], json!([{"Ref": "Architecture"}]));
    assert_eq!(
        function["Code"],
        json!({
            "S3Bucket": {"Ref": "CodeBucket"},
            "S3Key": {"Ref": "HttpApiCodeKey"},
            "S3ObjectVersion": {"Ref": "HttpApiCodeObjectVersion"}
        })
    );
    assert_eq!(
        function["Role"],
        json!({"Fn::GetAtt": ["HttpApiRole", "Arn"]}),
        "its own role"
    );
    // Its own log group, named as Lambda names the function's.
    assert_eq!(
        function["FunctionName"],
        json!({"Fn::Sub": "${AWS::StackName}-http-api"})
    );
    assert_eq!(
        resource("HttpApiLogGroup")["Properties"]["LogGroupName"],
        json!({"Fn::Sub": "/aws/lambda/${AWS::StackName}-http-api"})
    );
    assert_eq!(
        resource("HttpApiFunction")["DependsOn"],
        json!(["HttpApiLogGroup"])
    );

    // Every variable the wiring reads is set (`WARM_ON_INIT` aside: on by
    // default, turned off only to measure what warming saves, as for the
    // command Lambda); the queue is the command queue the command Lambda
    // consumes.
    let variables = function["Environment"]["Variables"]
        .as_object()
        .expect("variables")
        .clone();
    let read = variables_named_in("internal/http-lambda/src/lib.rs");
    assert!(read.contains(&"COMMAND_QUEUE_URL".to_owned()), "{read:?}");
    for name in read.into_iter().filter(|n| n != "WARM_ON_INIT") {
        assert!(
            variables.contains_key(&name),
            "the HTTP Lambda reads {name} but the template does not set it"
        );
    }
    assert_eq!(
        variables["COMMAND_QUEUE_URL"],
        json!({"Ref": "CommandQueue"})
    );
    // The handler's knobs are the command Lambda's.
    let command = &t["Resources"]["Function"]["Properties"]["Environment"]["Variables"];
    for knob in [
        "CONFIG_CACHE_SECONDS",
        "HANDLER_CONCURRENCY",
        "MAX_CONFLICT_ATTEMPTS",
        "DEADLINE_MARGIN_MS",
        "RUST_LOG",
    ] {
        assert_eq!(variables[knob], command[knob], "{knob}");
    }
}
