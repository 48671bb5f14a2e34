/// Every operator the engine implements, by ONNX op type.
enum OperatorRegistry {
    static let all: [any Operator.Type] = [
        ConvOp.self, BatchNormalizationOp.self, ActivationOp.self, BinaryOp.self,
        ConcatOp.self, ResizeOp.self, GlobalAveragePoolOp.self, PoolOp.self,
        GemmOp.self, MatMulOp.self, ViewOp.self, TransposeOp.self, SoftmaxOp.self,
        ReduceMeanOp.self, ShapeOp.self, GatherOp.self, SliceOp.self, CastOp.self,
        ConstantOp.self, ConstantOfShapeOp.self, RangeOp.self, ElementwiseIntOp.self,
        WhereOp.self, ExpandOp.self,
        QuantizeLinearOp.self, DequantizeLinearOp.self, QLinearConvOp.self, QLinearAddOp.self,
        QLinearConcatOp.self, QLinearGlobalAveragePoolOp.self, QLinearMatMulOp.self,
    ]

    static let byType: [String: any Operator.Type] = {
        var table: [String: any Operator.Type] = [:]
        for op in all {
            for type in op.opTypes { table[type] = op }
        }
        return table
    }()

    /// Op types whose kernels read or write 8-bit run-time tensors; views pass them through too.
    static let quantizedTypes: Set<String> = [
        "QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearAdd", "QLinearConcat",
        "QLinearGlobalAveragePool", "QLinearMatMul", "Resize", "MaxPool",
    ]

    /// The implementation for an op type, nil when unsupported.
    static func lookup(_ opType: String) -> (any Operator.Type)? { byType[opType] }
}
